"""The gateway against the fake Bedrock runtime over real HTTP, every call SigV4-signed
and the signature recomputed by the fake."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from providers import gateway
from providers.errors import ProviderError
from providers.models import Deployment
from providers.types import (
    ChatMessage,
    ChatRequest,
    EmbeddingRequest,
    ToolCall,
    ToolSpec,
    Usage,
)
from tests.fake_upstream import FakeUpstream, Fault
from tests.fake_upstream.bedrock_format import expect_aws_credentials

DeploymentFactory = Callable[..., Deployment]
ACCESS_KEY_ID = "AKIAFAKEBEDROCK0001"
SECRET_ACCESS_KEY = "fAkE/SeCrEt+bedrock/0123456789abcdefghij"
CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
CONVERSE_PATH = f"/model/{CLAUDE}/converse"
WEATHER = ToolSpec(name="weather", description="오늘 날씨", parameters={"type": "object"})


@pytest.fixture
def bedrock(
    deployment_factory: DeploymentFactory,
    fake_upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Deployment]:
    """A Bedrock deployment with keys from the environment, the fake expecting them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    expect_aws_credentials(
        fake_upstream, access_key_id=ACCESS_KEY_ID, secret_access_key=SECRET_ACCESS_KEY
    )

    def make(model_name: str = "claude", **fields: Any) -> Deployment:
        fields.setdefault("provider", "bedrock")
        fields.setdefault("upstream_model", CLAUDE)
        fields.setdefault("api_base", fake_upstream.origin)
        fields.setdefault(
            "secret_env",
            {
                "aws_access_key_id": "AWS_ACCESS_KEY_ID",
                "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
            },
        )
        fields.setdefault("params", {"aws_region_name": "ap-northeast-2"})
        return deployment_factory(model_name, **fields)

    return make


def ask(text: str, *, model: str = "claude", **fields: Any) -> ChatRequest:
    messages = [ChatMessage(role="system", content="Be brief."), ChatMessage("user", text)]
    return ChatRequest(model=model, messages=messages, **fields)


def test_chat_is_signed_and_answered(
    bedrock: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    # given
    deployment = bedrock()
    # when
    response = gateway.chat(ask("안녕하세요 반갑습니다"))
    # then the fake accepted the signature and answered in Converse JSON
    assert response.content == "Echo: 안녕하세요 반갑습니다"
    assert response.finish_reason == "stop"
    assert response.usage == Usage(prompt_tokens=4, completion_tokens=3)
    assert response.deployment_id == deployment.pk
    (recorded,) = fake_upstream.requests
    assert recorded.path == CONVERSE_PATH
    assert f"Credential={ACCESS_KEY_ID}/" in recorded.headers["Authorization"]
    assert "/ap-northeast-2/bedrock/aws4_request" in recorded.headers["Authorization"]
    assert recorded.body["system"] == [{"text": "Be brief."}]
    assert recorded.body["messages"] == [
        {"role": "user", "content": [{"text": "안녕하세요 반갑습니다"}]}
    ]


def test_stream_yields_deltas_finish_and_usage(
    bedrock: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    # given
    bedrock()
    # when
    chunks = list(gateway.stream(ask("one two three")))
    # then the binary event stream became deltas, one finish, usage last
    assert "".join(c.delta for c in chunks) == "Echo: one two three"
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert chunks[-1].usage == Usage(prompt_tokens=5, completion_tokens=4)
    assert fake_upstream.requests[0].path == f"/model/{CLAUDE}/converse-stream"


def test_tool_call_round_trip(bedrock: DeploymentFactory, fake_upstream: FakeUpstream) -> None:
    # given a streamed answer that calls the tool
    bedrock()
    chunks = list(gateway.stream(ask("도구로 서울 날씨", tools=[WEATHER])))
    deltas = [d for c in chunks for d in c.tool_calls]
    call_id, name = deltas[0].id, deltas[0].name
    arguments = "".join(d.arguments for d in deltas)
    assert (call_id, name) == ("tooluse_fake1", "weather")
    assert json.loads(arguments) == {"query": "도구로 서울 날씨"}
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["tool_calls"]
    # when the tool's result is sent back
    follow_up = ChatRequest(
        model="claude",
        messages=[
            ChatMessage("user", "도구로 서울 날씨"),
            ChatMessage(
                "assistant",
                None,
                tool_calls=(ToolCall(id=call_id or "", name=name or "", arguments=arguments),),
            ),
            ChatMessage("tool", "맑음 25도", tool_call_id=call_id),
        ],
        tools=[WEATHER],
    )
    response = gateway.chat(follow_up)
    # then the model answers from it, and the wire carried toolUse / toolResult blocks
    assert response.content == "Echo: 맑음 25도"
    assert response.finish_reason == "stop"
    sent = fake_upstream.requests[-1].body["messages"]
    assert sent[1]["content"] == [
        {
            "toolUse": {
                "toolUseId": "tooluse_fake1",
                "name": "weather",
                "input": {"query": "도구로 서울 날씨"},
            }
        }
    ]
    assert sent[2]["content"][0]["toolResult"]["toolUseId"] == "tooluse_fake1"


def test_throttling_is_retried(bedrock: DeploymentFactory, fake_upstream: FakeUpstream) -> None:
    # given Bedrock throttles the first call
    bedrock()
    fake_upstream.inject(Fault(status=429, message="Too many requests", retry_after=0.01))
    # when
    response = gateway.chat(ask("hello"))
    # then the gateway signed a fresh request and got through
    assert response.content == "Echo: hello"
    assert len(fake_upstream.requests) == 2


def test_wrong_secret_is_a_clean_403_that_is_not_retried(
    bedrock: DeploymentFactory, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the deployment's secret is not the one AWS knows
    bedrock()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not/the/right/secret")
    # when / then
    with pytest.raises(ProviderError, match="signature") as caught:
        gateway.chat(ask("hello"))
    assert caught.value.status == 403
    assert caught.value.retryable is False
    assert caught.value.provider_code == "InvalidSignatureException"
    assert "not/the/right" not in caught.value.message
    assert len(fake_upstream.requests) == 1


def test_unknown_access_key_is_refused(
    bedrock: DeploymentFactory, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an access key id AWS does not know
    bedrock()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000")
    # when / then
    with pytest.raises(ProviderError) as caught:
        gateway.chat(ask("hello"))
    assert (caught.value.status, caught.value.provider_code) == (403, "UnrecognizedClientException")


def test_session_token_is_sent_and_covered_by_the_signature(
    bedrock: DeploymentFactory, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given temporary credentials
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLEsessiontoken")
    bedrock(
        secret_env={
            "aws_access_key_id": "AWS_ACCESS_KEY_ID",
            "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
            "aws_session_token": "AWS_SESSION_TOKEN",
        }
    )
    # when
    response = gateway.chat(ask("hello"))
    # then
    assert response.content == "Echo: hello"
    headers = fake_upstream.requests[0].headers
    assert headers["X-Amz-Security-Token"] == "FwoGZXIvYXdzEXAMPLEsessiontoken"
    assert "x-amz-security-token" in headers["Authorization"]


def test_missing_credentials_never_reach_aws(
    bedrock: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    # given a deployment configured without keys
    bedrock(secret_env={})
    # when / then
    with pytest.raises(ProviderError, match="aws_access_key_id or aws_secret_access_key") as caught:
        gateway.chat(ask("hello"))
    assert caught.value.status == 500
    assert fake_upstream.requests == []


def test_stream_dropped_midway_is_an_error_after_the_first_tokens(
    bedrock: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    # given the connection drops after two text events
    bedrock()
    fake_upstream.inject(Fault(drop_after_chunks=2))
    received: list[str] = []

    def consume() -> None:
        for chunk in gateway.stream(ask("a b c d e f")):
            received.append(chunk.delta)

    # when / then
    with pytest.raises(ProviderError):
        consume()
    assert "".join(received) == "Echo: a"


def test_titan_embedding(bedrock: DeploymentFactory, fake_upstream: FakeUpstream) -> None:
    # given a Titan v2 embedding deployment
    bedrock("titan", upstream_model="amazon.titan-embed-text-v2:0", mode="embedding")
    # when
    response = gateway.embed(EmbeddingRequest(model="titan", inputs=["사내 규정"], dimensions=256))
    # then
    assert len(response.vectors) == 1
    assert len(response.vectors[0]) == 256
    assert response.usage.prompt_tokens == 2
    assert fake_upstream.requests[0].path == "/model/amazon.titan-embed-text-v2:0/invoke"
