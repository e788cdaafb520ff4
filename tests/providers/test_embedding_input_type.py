"""``EmbeddingRequest.input_type`` ("query" / "passage") reaches only deployments that
opt in with ``input_type: true``; OpenAI, Azure and the others never see it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest

from providers import gateway
from providers.adapters.gemini.adapter import GeminiAdapter
from providers.adapters.openai_compat import AzureOpenAIAdapter, OpenAIAdapter
from providers.config_import import models_config_parse
from providers.models import Deployment
from providers.types import DeploymentTarget, EmbeddingRequest
from tests.fake_upstream import FakeUpstream

TARGET = DeploymentTarget(
    deployment_id=1,
    provider="hosted_vllm",
    upstream_model="multilingual-e5-small",
    api_base="http://embed.internal/v1",
)
OPTED_IN = dataclasses.replace(TARGET, params={"input_type": True})
REQUEST = EmbeddingRequest(model="embedding", inputs=["연차 규정"], input_type="passage")


def body_of(adapter: OpenAIAdapter, target: DeploymentTarget, request: EmbeddingRequest) -> object:
    return json.loads(adapter.build_embed_call(target, request).body)


def test_input_type_is_sent_only_when_the_deployment_opts_in() -> None:
    assert body_of(OpenAIAdapter(), OPTED_IN, REQUEST) == {
        "input": ["연차 규정"],
        "encoding_format": "float",
        "model": "multilingual-e5-small",
        "input_type": "passage",
    }
    assert "input_type" not in body_of(OpenAIAdapter(), TARGET, REQUEST)  # type: ignore[operator]
    azure = dataclasses.replace(TARGET, provider="azure", api_version="2024-10-21")
    assert "input_type" not in body_of(AzureOpenAIAdapter(), azure, REQUEST)  # type: ignore[operator]
    # opted in, but the caller did not say which: nothing is sent
    plain = dataclasses.replace(REQUEST, input_type=None)
    assert "input_type" not in body_of(OpenAIAdapter(), OPTED_IN, plain)  # type: ignore[operator]


def test_other_adapters_ignore_it() -> None:
    target = dataclasses.replace(
        OPTED_IN, provider="gemini", upstream_model="gemini-embedding-001", api_base=""
    )
    body = json.loads(GeminiAdapter().build_embed_call(target, REQUEST).body)
    assert "input_type" not in json.dumps(body)


def test_the_option_comes_from_the_models_config() -> None:
    config = models_config_parse(
        """
model_list:
  - model_name: embedding
    litellm_params: {model: hosted_vllm/e5, api_base: "http://e5/v1", input_type: true}
    model_info: {mode: embedding}
"""
    )
    assert config.deployments[0].params == {"input_type": True}


@pytest.mark.django_db
def test_through_the_gateway(
    deployment_factory: Callable[..., Deployment], fake_upstream: FakeUpstream
) -> None:
    deployment_factory("e5", mode="embedding", params={"input_type": True})
    deployment_factory("openai-embed", mode="embedding")
    gateway.embed(dataclasses.replace(REQUEST, model="e5", dimensions=8))
    gateway.embed(dataclasses.replace(REQUEST, model="openai-embed", dimensions=8))
    opted, plain = (r.body for r in fake_upstream.requests)
    assert opted["input_type"] == "passage"
    assert "input_type" not in plain


def test_api_callers_choose_query_or_passage() -> None:
    from providers.api.inputs import embedding_request_parse
    from providers.errors import InvalidRequest

    body = {"model": "embedding", "input": ["연차 규정"]}
    assert embedding_request_parse(body).input_type is None
    assert embedding_request_parse({**body, "input_type": "passage"}).input_type == "passage"
    with pytest.raises(InvalidRequest) as refused:
        embedding_request_parse({**body, "input_type": "document!"})
    assert refused.value.param == "input_type"
