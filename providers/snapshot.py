"""An in-memory snapshot of the models configuration, so the request path reads no
database. Reloaded when a ``config.changed`` event arrives (and at most every
``MAX_AGE_SECONDS`` as a safety net)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from providers.deployment_secrets import secrets_open
from providers.errors import GatewayError
from providers.models import Deployment, Fallback, PriceEntry, RouterSettings
from providers.secrets import resolve_env_reference
from providers.types import DeploymentTarget, ModelInfo

MAX_AGE_SECONDS = 60.0


@dataclass(frozen=True)
class Prices:
    input: Decimal = Decimal(0)
    output: Decimal = Decimal(0)
    cache_read: Decimal | None = None


@dataclass(frozen=True)
class DeploymentEntry:
    deployment_id: int
    model_name: str
    provider: str
    upstream_model: str
    mode: str
    weight: int
    rpm: int | None
    tpm: int | None
    max_input_tokens: int | None
    prices: Prices | None
    description: str
    target: DeploymentTarget | None  # None when a secret could not be resolved
    problem: str = ""
    external: bool = True  # outside the company network: the personal data guard applies
    byok: str = "allowed"  # allowed | required | off


@dataclass(frozen=True)
class RouterPolicy:
    strategy: str = "simple-shuffle"
    num_retries: int = 2
    timeout_seconds: float = 600.0
    allowed_fails: int = 3
    cooldown_seconds: int = 60


@dataclass(frozen=True)
class Snapshot:
    groups: dict[str, tuple[DeploymentEntry, ...]]
    fallbacks: dict[str, tuple[str, ...]]
    context_fallbacks: dict[str, tuple[str, ...]]
    policy: RouterPolicy
    catalog: dict[str, Prices]

    def prices_for(self, entry: DeploymentEntry) -> Prices:
        if entry.prices is not None:
            return entry.prices
        return (
            self.catalog.get(entry.upstream_model) or self.catalog.get(entry.model_name) or Prices()
        )

    def model_infos(self, mode: str | None = None) -> list[ModelInfo]:
        infos = []
        for name, entries in sorted(self.groups.items()):
            first = entries[0]
            if mode is None or first.mode == mode:
                infos.append(
                    ModelInfo(
                        name=name,
                        description=first.description,
                        max_input_tokens=first.max_input_tokens,
                        mode=first.mode,
                    )
                )
        return infos


def deployment_target(deployment: Deployment) -> DeploymentTarget:
    """Resolve env references and decrypt secrets, in memory only."""
    what = f"model {deployment.model_name!r}"
    credentials = secrets_open(
        bytes(deployment.secrets_ciphertext),
        model_name=deployment.model_name,
        provider=deployment.provider,
    )
    for name, env_name in deployment.secret_env.items():
        credentials[name] = resolve_env_reference(f"os.environ/{env_name}", what=what)
    params = {
        key: resolve_env_reference(value, what=what) if isinstance(value, str) else value
        for key, value in deployment.params.items()
    }
    return DeploymentTarget(
        deployment_id=deployment.pk,
        provider=deployment.provider,
        upstream_model=deployment.upstream_model,
        api_base=resolve_env_reference(deployment.api_base, what=what),
        api_key=credentials.pop("api_key", ""),
        api_version=deployment.api_version,
        timeout_seconds=deployment.timeout_seconds or 600.0,
        credentials=credentials,
        params=params,
    )


def _entry(deployment: Deployment) -> DeploymentEntry:
    target: DeploymentTarget | None
    try:
        target, problem = deployment_target(deployment), ""
    except GatewayError as exc:
        target, problem = None, exc.message
    prices = None
    if deployment.input_cost_per_token is not None or deployment.output_cost_per_token is not None:
        prices = Prices(
            input=deployment.input_cost_per_token or Decimal(0),
            output=deployment.output_cost_per_token or Decimal(0),
            cache_read=deployment.cache_read_cost_per_token,
        )
    return DeploymentEntry(
        deployment_id=deployment.pk,
        model_name=deployment.model_name,
        provider=deployment.provider,
        upstream_model=deployment.upstream_model,
        mode=deployment.mode,
        weight=max(1, deployment.weight),
        rpm=deployment.rpm,
        tpm=deployment.tpm,
        max_input_tokens=deployment.max_input_tokens,
        prices=prices,
        description=deployment.description,
        target=target,
        problem=problem,
        external=not (
            deployment.on_premises
            if deployment.on_premises is not None
            else deployment.provider == "hosted_vllm"
        ),
        byok="off" if deployment.provider == "hosted_vllm" else deployment.byok,
    )


def snapshot_load() -> Snapshot:
    groups: dict[str, list[DeploymentEntry]] = {}
    for deployment in Deployment.objects.filter(is_enabled=True).order_by("model_name", "id"):
        groups.setdefault(deployment.model_name, []).append(_entry(deployment))
    fallbacks: dict[str, list[str]] = {}
    context_fallbacks: dict[str, list[str]] = {}
    for row in Fallback.objects.order_by("model_name", "kind", "position"):
        bucket = context_fallbacks if row.kind == Fallback.Kind.CONTEXT_WINDOW else fallbacks
        bucket.setdefault(row.model_name, []).append(row.fallback_model_name)
    settings_row = RouterSettings.objects.filter(pk=1).first()
    policy = RouterPolicy()
    if settings_row is not None:
        policy = RouterPolicy(
            strategy=settings_row.routing_strategy,
            num_retries=settings_row.num_retries,
            timeout_seconds=settings_row.timeout_seconds,
            allowed_fails=settings_row.allowed_fails,
            cooldown_seconds=settings_row.cooldown_seconds,
        )
    catalog = {
        row.model: Prices(
            row.input_cost_per_token, row.output_cost_per_token, row.cache_read_cost_per_token
        )
        for row in PriceEntry.objects.all()
    }
    return Snapshot(
        groups={k: tuple(v) for k, v in groups.items()},
        fallbacks={k: tuple(v) for k, v in fallbacks.items()},
        context_fallbacks={k: tuple(v) for k, v in context_fallbacks.items()},
        policy=policy,
        catalog=catalog,
    )
