"""The openai SDK, pointed at the gateway with a virtual key, streams from every
provider format: the demo engine and fake Azure, Anthropic, Gemini, Vertex AI
and Bedrock upstreams. Secrets are literal in the config, so they reach the
server process only encrypted in the database."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from openai import OpenAI

from providers.config_import import models_config_apply, models_config_parse
from providers.keys import virtual_key_create
from providers.models import UsageRecord
from tests.fake_upstream import FakeUpstream
from tests.fake_upstream.bedrock_format import expect_aws_credentials
from tests.fake_upstream.gemini_format import register_service_account
from tests.personas import Personas

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[3]
SECRET = "sk-provider-literal-4242"


def config_for(provider: str, upstream: FakeUpstream) -> str:
    base = upstream.origin
    params: dict[str, object]
    if provider == "azure":
        params = {
            "model": "azure/gpt-4o-prod",
            "api_base": base,
            "api_key": SECRET,
            "api_version": "2024-10-21",
        }
    elif provider == "anthropic":
        params = {"model": "anthropic/claude-sonnet-4-5", "api_base": base, "api_key": SECRET}
    elif provider == "gemini":
        params = {"model": "gemini/gemini-2.5-flash", "api_base": base, "api_key": SECRET}
    elif provider == "vertex_ai":
        account = register_service_account(upstream, project_id="acme-ai")
        params = {
            "model": "vertex_ai/gemini-2.5-pro",
            "api_base": base,
            "vertex_credentials": json.dumps(account),
            "vertex_location": "asia-northeast3",
        }
    else:
        params = {
            "model": "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
            "api_base": base,
            "aws_access_key_id": "AKIAEXAMPLEGATEWAY",
            "aws_secret_access_key": SECRET,
            "aws_region_name": "ap-northeast-2",
        }
    return json.dumps({"model_list": [{"model_name": "company-model", "litellm_params": params}]})


def sdk_client(live_daphne: str, personas: Personas) -> OpenAI:
    key = virtual_key_create(user=personas.member).plaintext
    client = OpenAI(api_key=key, base_url=f"{live_daphne}/v1", max_retries=0, timeout=60)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not client.models.list().data:
        time.sleep(0.05)
    return client


def streamed_text(client: OpenAI, content: str, **extra: object) -> str:
    stream = client.chat.completions.create(
        model="company-model",
        messages=[{"role": "user", "content": content}],
        stream=True,
        extra_body=extra or None,
    )
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


@pytest.mark.parametrize("provider", ["azure", "anthropic", "gemini", "vertex_ai", "bedrock"])
def test_sdk_streams_through_each_provider_format(
    provider: str, live_daphne: str, personas: Personas, fake_upstream: FakeUpstream
) -> None:
    # given the company model served by this provider (the fake checks its credentials)
    if provider == "bedrock":
        expect_aws_credentials(
            fake_upstream, access_key_id="AKIAEXAMPLEGATEWAY", secret_access_key=SECRET
        )
    elif provider != "vertex_ai":
        fake_upstream.api_key = SECRET
    models_config_apply(models_config_parse(config_for(provider, fake_upstream)))
    client = sdk_client(live_daphne, personas)
    # when a caller tries to point the request elsewhere, too
    text = streamed_text(client, "사내 규정을 알려줘", api_base="http://127.0.0.1:9/v1")
    # then the answer streams back through the provider's own format
    assert text == "Echo: 사내 규정을 알려줘"
    assert len(fake_upstream.requests) >= 1
    row = UsageRecord.objects.filter(provider=provider, status="ok").first()
    for _ in range(50):
        if row is not None:
            break
        time.sleep(0.05)
        row = UsageRecord.objects.filter(provider=provider, status="ok").first()
    assert row is not None
    assert row.completion_tokens > 0
    client.close()


def test_sdk_streams_from_the_demo_engine(
    demo_engine: str,
    live_daphne: str,
    personas: Personas,
    deployment_factory: Callable[..., object],
) -> None:
    config = {
        "model_list": [
            {
                "model_name": "company-model",
                "litellm_params": {"model": "hosted_vllm/smollm2", "api_base": demo_engine},
            }
        ]
    }
    models_config_apply(models_config_parse(json.dumps(config)))
    client = sdk_client(live_daphne, personas)
    stream = client.chat.completions.create(
        model="company-model",
        messages=[{"role": "user", "content": "Name a fruit."}],
        stream=True,
        max_tokens=12,
        temperature=0,
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text.strip()
    client.close()
