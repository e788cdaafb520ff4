from __future__ import annotations

import pytest

from providers.config_import import models_config_apply, models_config_parse
from providers.errors import ConfigError
from providers.models import Deployment, Fallback, RouterSettings
from providers.snapshot import deployment_target

LITELLM_CONFIG = """
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY
      rpm: 600
    model_info:
      max_input_tokens: 128000
      input_cost_per_token: 0.0000025
      output_cost_per_token: 0.00001
  - model_name: qwen
    litellm_params:
      model: hosted_vllm/Qwen/Qwen3-8B
      api_base: http://vllm-qwen:8000/v1
      api_key: sk-literal-qwen-1234
  - model_name: qwen
    litellm_params:
      model: hosted_vllm/Qwen/Qwen3-8B
      api_base: http://vllm-qwen-2:8000/v1
router_settings:
  routing_strategy: least-busy
  num_retries: 3
  timeout: 30
litellm_settings:
  fallbacks: [{"qwen": ["gpt-4o"]}]
  context_window_fallbacks: [{"qwen": ["gpt-4o"]}]
"""


@pytest.mark.django_db
def test_litellm_config_applies_deployments_router_and_fallbacks() -> None:
    # when
    result = models_config_apply(models_config_parse(LITELLM_CONFIG))
    # then
    assert (result.created, result.updated, result.removed) == (3, 0, 0)
    gpt = Deployment.objects.get(model_name="gpt-4o")
    assert (gpt.provider, gpt.upstream_model, gpt.secret_env, gpt.rpm) == (
        "openai",
        "gpt-4o",
        {"api_key": "OPENAI_API_KEY"},
        600,
    )
    assert gpt.max_input_tokens == 128000
    assert Deployment.objects.filter(model_name="qwen").count() == 2
    router = RouterSettings.objects.get()
    assert (router.routing_strategy, router.num_retries, router.timeout_seconds) == (
        "least-busy",
        3,
        30,
    )
    assert list(Fallback.objects.values_list("model_name", "kind", "fallback_model_name")) == [
        ("qwen", "context_window", "gpt-4o"),
        ("qwen", "general", "gpt-4o"),
    ]


@pytest.mark.django_db
def test_reapplying_is_idempotent_and_removes_what_left_the_file() -> None:
    models_config_apply(models_config_parse(LITELLM_CONFIG))
    ids = set(Deployment.objects.values_list("id", flat=True))
    # when the same file is applied again
    again = models_config_apply(models_config_parse(LITELLM_CONFIG))
    # then nothing is recreated
    assert (again.created, again.updated, again.removed) == (0, 3, 0)
    assert set(Deployment.objects.values_list("id", flat=True)) == ids
    # when a deployment leaves the file
    smaller = LITELLM_CONFIG.replace(
        "      api_base: http://vllm-qwen-2:8000/v1\n", "      api_base: http://x:1/v1\n"
    )
    result = models_config_apply(models_config_parse(smaller))
    assert (result.created, result.removed) == (1, 1)


@pytest.mark.django_db
def test_literal_key_is_stored_encrypted_and_decrypts_for_the_call() -> None:
    models_config_apply(models_config_parse(LITELLM_CONFIG))
    qwen = Deployment.objects.get(api_base="http://vllm-qwen:8000/v1")
    assert b"sk-literal-qwen-1234" not in bytes(qwen.secrets_ciphertext)
    assert qwen.api_key_last4 == "1234"
    assert deployment_target(qwen).api_key == "sk-literal-qwen-1234"
    assert "sk-literal" not in repr(deployment_target(qwen))


@pytest.mark.django_db
def test_ciphertext_moved_to_another_deployment_fails_to_decrypt() -> None:
    from providers.errors import SecretUnavailable

    models_config_apply(models_config_parse(LITELLM_CONFIG))
    qwen = Deployment.objects.get(api_base="http://vllm-qwen:8000/v1")
    gpt = Deployment.objects.get(model_name="gpt-4o")
    gpt.secret_env = {}
    gpt.secrets_ciphertext = qwen.secrets_ciphertext
    with pytest.raises(SecretUnavailable):
        deployment_target(gpt)


@pytest.mark.django_db
def test_env_reference_is_resolved_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    models_config_apply(models_config_parse(LITELLM_CONFIG))
    gpt = Deployment.objects.get(model_name="gpt-4o")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    assert deployment_target(gpt).api_key == "sk-from-env"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model_list: []", "model_list: required"),
        (
            "model_list:\n  - model_name: x\n    litellm_params: {model: gpt-4o}",
            "must be PREFIX/NAME",
        ),
        (
            "model_list:\n  - model_name: x\n    litellm_params: {model: foo/bar}",
            "unknown prefix 'foo'",
        ),
        (
            "model_list:\n  - litellm_params: {model: openai/x}",
            r"model_list\[0\].model_name: required",
        ),
        ("model_list: [\n", "Not valid YAML"),
        (
            "model_list:\n  - model_name: x\n    litellm_params: {model: openai/x, rpm: many}",
            r"model_list\[0\].litellm_params.rpm",
        ),
        (
            "model_list:\n  - model_name: x\n    litellm_params: {model: openai/x}\n"
            "litellm_settings:\n  fallbacks: [{x: [y]}]",
            "unknown model name 'y'",
        ),
    ],
)
def test_malformed_config_is_rejected_with_its_location(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        models_config_parse(text)


@pytest.mark.django_db
def test_cloud_credentials_and_extra_params_reach_the_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a Bedrock deployment with keys from the environment and a region
    config = """
model_list:
  - model_name: claude-bedrock
    litellm_params:
      model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0
      aws_access_key_id: os.environ/AWS_ACCESS_KEY_ID
      aws_secret_access_key: literal-secret-key
      aws_region_name: ap-northeast-2
"""
    models_config_apply(models_config_parse(config))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    deployment = Deployment.objects.get()
    # then the secrets are resolved in memory only, and params pass through
    target = deployment_target(deployment)
    assert target.credentials == {
        "aws_access_key_id": "AKIAEXAMPLE",
        "aws_secret_access_key": "literal-secret-key",
    }
    assert target.params == {"aws_region_name": "ap-northeast-2"}
    assert b"literal-secret-key" not in bytes(deployment.secrets_ciphertext)
    assert "literal-secret-key" not in repr(target)


NETWORK_CONFIG = """
model_list:
  - model_name: gemma
    litellm_params: {model: hosted_vllm/google/gemma-3-27b-it, api_base: http://vllm:8000/v1}
  - model_name: proxy-gpt
    litellm_params: {model: openai/gpt-4o, api_base: http://10.0.0.5/v1}
    model_info: {on_premises: false, byok: "off"}
  - model_name: internal-openai-compatible
    litellm_params: {model: openai/qwen, api_base: http://10.0.0.6/v1}
    model_info: {on_premises: true, byok: required}
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
"""


@pytest.mark.django_db
def test_network_placement_and_own_keys_come_from_model_info() -> None:
    from providers.snapshot import snapshot_load

    models_config_apply(models_config_parse(NETWORK_CONFIG))
    groups = snapshot_load().groups
    placement = {name: (e[0].external, e[0].byok) for name, e in groups.items()}
    assert placement == {
        "gemma": (False, "off"),  # hosted_vllm: on premises, never an own key
        "proxy-gpt": (True, "off"),
        "internal-openai-compatible": (False, "required"),
        "gpt-4o": (True, "allowed"),  # cloud by default
    }


@pytest.mark.django_db
def test_bad_network_settings_are_rejected() -> None:
    bad = NETWORK_CONFIG.replace("on_premises: false", "on_premises: maybe")
    with pytest.raises(ConfigError, match="on_premises: must be true or false"):
        models_config_parse(bad)
    with pytest.raises(ConfigError, match="byok: must be allowed"):
        models_config_parse(NETWORK_CONFIG.replace('byok: "off"', "byok: sometimes"))
