"""Parse and apply the LiteLLM-compatible models configuration (contract 2)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from django.db import transaction

from providers.deployment_secrets import secrets_seal
from providers.errors import ConfigError
from providers.events import publish_on_commit
from providers.models import PROVIDER_PREFIXES, Deployment, Fallback, RouterSettings
from providers.secrets import env_reference

# litellm_params that hold secrets: kept as environment references or encrypted.
SECRET_PARAMS = (
    "api_key",
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "vertex_credentials",
)
# litellm_params with their own columns; everything else lands in Deployment.params.
KNOWN_PARAMS = frozenset({"model", "api_base", "api_version", "rpm", "tpm", "weight", "timeout"})

ROUTER_KEYS = {
    "routing_strategy": ("routing_strategy", str),
    "num_retries": ("num_retries", int),
    "timeout": ("timeout_seconds", float),
    "allowed_fails": ("allowed_fails", int),
    "cooldown_time": ("cooldown_seconds", int),
}
STRATEGIES = {
    "simple-shuffle",
    "least-busy",
    "latency-based-routing",
    "usage-based-routing",
    "usage-based-routing-v2",
}


@dataclass
class DeploymentSpec:
    model_name: str
    provider: str
    upstream_model: str
    api_base: str = ""
    api_version: str = ""
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    params: dict[str, Any] = field(default_factory=dict)
    rpm: int | None = None
    tpm: int | None = None
    weight: int = 1
    timeout_seconds: float | None = None
    mode: str = "chat"
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    input_cost_per_token: Decimal | None = None
    output_cost_per_token: Decimal | None = None
    cache_read_cost_per_token: Decimal | None = None
    description: str = ""
    config_id: str = ""
    on_premises: bool | None = None
    byok: str = "allowed"


@dataclass
class ModelsConfig:
    deployments: list[DeploymentSpec]
    router: dict[str, Any]
    fallbacks: dict[str, list[str]]
    context_window_fallbacks: dict[str, list[str]]


@dataclass(frozen=True)
class ApplyResult:
    created: int
    updated: int
    removed: int


def _int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{where}: must be a number")
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{where}: must be a whole number, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"{where}: must not be negative")
    return number


def _decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}: must be a number, got {value!r}") from None


def _parse_deployment(entry: Any, index: int) -> DeploymentSpec:
    where = f"model_list[{index}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a mapping")
    model_name = entry.get("model_name")
    if not isinstance(model_name, str) or not model_name.strip():
        raise ConfigError(f"{where}.model_name: required")
    params = entry.get("litellm_params")
    if not isinstance(params, dict):
        raise ConfigError(f"{where}.litellm_params: required mapping")
    model = params.get("model")
    if not isinstance(model, str) or "/" not in model:
        raise ConfigError(f"{where}.litellm_params.model: must be PREFIX/NAME, got {model!r}")
    provider, _, upstream = model.partition("/")
    if provider not in PROVIDER_PREFIXES:
        allowed = ", ".join(PROVIDER_PREFIXES)
        raise ConfigError(f"{where}.litellm_params.model: unknown prefix {provider!r} ({allowed})")
    info = entry.get("model_info") or {}
    if not isinstance(info, dict):
        raise ConfigError(f"{where}.model_info: must be a mapping")
    secrets: dict[str, str] = {}
    for name in SECRET_PARAMS:
        value = params.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, dict) and name == "vertex_credentials":
            value = json.dumps(value)
        if not isinstance(value, str):
            raise ConfigError(f"{where}.litellm_params.{name}: must be a string")
        secrets[name] = value
    extra = {
        key: value
        for key, value in params.items()
        if key not in SECRET_PARAMS and key not in KNOWN_PARAMS
    }
    timeout = params.get("timeout")
    mode = str(info.get("mode") or "chat")
    if mode not in ("chat", "embedding"):
        raise ConfigError(f"{where}.model_info.mode: must be chat or embedding")
    on_premises = info.get("on_premises")
    if on_premises is not None and not isinstance(on_premises, bool):
        raise ConfigError(f"{where}.model_info.on_premises: must be true or false")
    byok = str(info.get("byok") or "allowed")
    if byok not in ("allowed", "required", "off"):
        raise ConfigError(f"{where}.model_info.byok: must be allowed, required or off")
    return DeploymentSpec(
        model_name=model_name.strip(),
        provider=provider,
        upstream_model=upstream,
        api_base=str(params.get("api_base") or ""),
        api_version=str(params.get("api_version") or ""),
        secrets=secrets,
        params=extra,
        rpm=_int(params.get("rpm", entry.get("rpm")), f"{where}.litellm_params.rpm"),
        tpm=_int(params.get("tpm", entry.get("tpm")), f"{where}.litellm_params.tpm"),
        weight=_int(params.get("weight"), f"{where}.litellm_params.weight") or 1,
        timeout_seconds=float(timeout) if isinstance(timeout, int | float) else None,
        mode=mode,
        max_input_tokens=_int(
            info.get("max_input_tokens", info.get("max_tokens")),
            f"{where}.model_info.max_input_tokens",
        ),
        max_output_tokens=_int(
            info.get("max_output_tokens"), f"{where}.model_info.max_output_tokens"
        ),
        input_cost_per_token=_decimal(
            info.get("input_cost_per_token"), f"{where}.model_info.input_cost_per_token"
        ),
        cache_read_cost_per_token=_decimal(
            info.get("cache_read_input_token_cost"),
            f"{where}.model_info.cache_read_input_token_cost",
        ),
        output_cost_per_token=_decimal(
            info.get("output_cost_per_token"), f"{where}.model_info.output_cost_per_token"
        ),
        description=str(info.get("description") or "")[:300],
        config_id=str(info.get("id") or ""),
        on_premises=on_premises,
        byok=byok,
    )


def _parse_fallbacks(raw: Any, where: str) -> dict[str, list[str]]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: must be a list of {{model: [fallbacks]}} mappings")
    result: dict[str, list[str]] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ConfigError(f"{where}[{i}]: must be a mapping")
        for name, targets in item.items():
            if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
                raise ConfigError(f"{where}[{i}].{name}: must be a list of model names")
            result[str(name)] = list(targets)
    return result


def models_config_parse(text: str) -> ModelsConfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"Not valid YAML{line}") from None
    if not isinstance(data, dict):
        raise ConfigError("The models configuration must be a mapping with model_list")
    entries = data.get("model_list")
    if not isinstance(entries, list) or not entries:
        raise ConfigError("model_list: required, a non-empty list")
    deployments = [_parse_deployment(entry, i) for i, entry in enumerate(entries)]
    router_raw = data.get("router_settings") or {}
    if not isinstance(router_raw, dict):
        raise ConfigError("router_settings: must be a mapping")
    router: dict[str, Any] = {}
    for key, (attr, cast) in ROUTER_KEYS.items():
        if key in router_raw:
            try:
                router[attr] = cast(router_raw[key])
            except (TypeError, ValueError):
                raise ConfigError(f"router_settings.{key}: invalid value") from None
    strategy = router.get("routing_strategy")
    if strategy is not None and strategy not in STRATEGIES:
        raise ConfigError(f"router_settings.routing_strategy: unknown strategy {strategy!r}")
    settings_raw = data.get("litellm_settings") or {}
    if not isinstance(settings_raw, dict):
        raise ConfigError("litellm_settings: must be a mapping")
    fallbacks = _parse_fallbacks(
        settings_raw.get("fallbacks", router_raw.get("fallbacks")), "litellm_settings.fallbacks"
    )
    cw_fallbacks = _parse_fallbacks(
        settings_raw.get("context_window_fallbacks", router_raw.get("context_window_fallbacks")),
        "litellm_settings.context_window_fallbacks",
    )
    names = {d.model_name for d in deployments}
    for label, mapping in (("fallbacks", fallbacks), ("context_window_fallbacks", cw_fallbacks)):
        for source, targets in mapping.items():
            for target in [source, *targets]:
                if target not in names:
                    raise ConfigError(f"litellm_settings.{label}: unknown model name {target!r}")
    return ModelsConfig(deployments, router, fallbacks, cw_fallbacks)


def _identity(spec: DeploymentSpec) -> tuple[str, str, str, str]:
    return (
        spec.config_id,
        spec.model_name,
        f"{spec.provider}/{spec.upstream_model}",
        spec.api_base,
    )


@transaction.atomic
def models_config_apply(config: ModelsConfig) -> ApplyResult:
    """Make the config-sourced deployments equal to ``config``; admin-made ones stay."""
    existing = {
        (d.config_id, d.model_name, f"{d.provider}/{d.upstream_model}", d.api_base): d
        for d in Deployment.objects.select_for_update().filter(source=Deployment.Source.CONFIG)
    }
    created = updated = 0
    kept: set[int] = set()
    for spec in config.deployments:
        deployment = existing.get(_identity(spec))
        if deployment is None:
            deployment = Deployment(source=Deployment.Source.CONFIG)
            created += 1
        else:
            updated += 1
        _fill(deployment, spec)
        deployment.save()
        kept.add(deployment.pk)
    stale = [d.pk for d in existing.values() if d.pk not in kept]
    Deployment.objects.filter(pk__in=stale).delete()

    router, _ = RouterSettings.objects.get_or_create(pk=1)
    for attr, value in config.router.items():
        setattr(router, attr, value)
    router.save()

    Fallback.objects.all().delete()
    rows = [
        Fallback(model_name=source, kind=kind, position=i, fallback_model_name=target)
        for kind, mapping in (
            (Fallback.Kind.GENERAL, config.fallbacks),
            (Fallback.Kind.CONTEXT_WINDOW, config.context_window_fallbacks),
        )
        for source, targets in mapping.items()
        for i, target in enumerate(targets)
    ]
    Fallback.objects.bulk_create(rows)
    publish_on_commit({"type": "config.changed"})
    return ApplyResult(created=created, updated=updated, removed=len(stale))


def _fill(deployment: Deployment, spec: DeploymentSpec) -> None:
    for attr in (
        "model_name",
        "provider",
        "upstream_model",
        "api_base",
        "api_version",
        "rpm",
        "tpm",
        "weight",
        "timeout_seconds",
        "mode",
        "max_input_tokens",
        "max_output_tokens",
        "input_cost_per_token",
        "output_cost_per_token",
        "cache_read_cost_per_token",
        "description",
        "config_id",
        "on_premises",
        "byok",
    ):
        setattr(deployment, attr, getattr(spec, attr))
    deployment.params = spec.params
    deployment.secret_env = {}
    literal: dict[str, str] = {}
    for name, value in spec.secrets.items():
        env_name = env_reference(value)
        if env_name is not None:
            deployment.secret_env[name] = env_name
        else:
            literal[name] = value
    deployment.secrets_ciphertext = secrets_seal(
        literal, model_name=spec.model_name, provider=spec.provider
    )
    key = spec.secrets.get("api_key", "")
    deployment.api_key_last4 = key[-4:] if key and env_reference(key) is None else ""
