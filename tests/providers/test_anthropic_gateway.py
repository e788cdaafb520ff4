"""The gateway with an ``anthropic`` deployment against the fake upstream over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from providers import gateway
from providers.errors import ConfigError, ProviderError
from providers.models import Deployment
from providers.types import ChatMessage, ChatRequest, ToolCall, ToolSpec, Usage
from tests.fake_upstream import FakeUpstream, Fault

DeploymentFactory = Callable[..., Deployment]
API_KEY = "sk-ant-fake-0123"
SEARCH = ToolSpec(
    name="search",
    description="Search the intranet",
    parameters={"type": "object", "properties": {"query": {"type": "string"}}},
)


@pytest.fixture
def claude(
    deployment_factory: DeploymentFactory,
    fake_upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> Deployment:
    """An anthropic deployment whose key comes from the environment; the fake demands it."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    fake_upstream.api_key = API_KEY
    return deployment_factory(
        "claude",
        provider="anthropic",
        upstream_model="claude-sonnet-4-20250514",
        api_base=fake_upstream.origin,
        secret_env={"api_key": "ANTHROPIC_API_KEY"},
    )


def ask(
    text: str,
    *,
    tools: list[ToolSpec] | None = None,
    response_format: dict[str, Any] | None = None,
) -> ChatRequest:
    return ChatRequest(
        model="claude",
        messages=[ChatMessage(role="user", content=text)],
        tools=tools,
        response_format=response_format,
    )


def test_chat_speaks_the_messages_api_and_returns_text_and_usage(
    claude: Deployment, fake_upstream: FakeUpstream
) -> None:
    # given a system prompt and a question
    request = ChatRequest(
        model="claude",
        messages=[
            ChatMessage(role="system", content="Be brief."),
            ChatMessage(role="user", content="안녕하세요 반갑습니다"),
        ],
    )
    # when
    response = gateway.chat(request)
    # then
    assert response.content == "Echo: 안녕하세요 반갑습니다"
    assert response.finish_reason == "stop"
    assert response.usage == Usage(prompt_tokens=4, completion_tokens=3)
    assert response.deployment_id == claude.pk
    [sent] = fake_upstream.requests
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == API_KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.body["model"] == "claude-sonnet-4-20250514"
    assert sent.body["system"] == "Be brief."
    assert sent.body["max_tokens"] == 4096


def test_a_wrong_key_is_a_permanent_failure(
    claude: Deployment, fake_upstream: FakeUpstream
) -> None:
    # given the upstream expects another key
    fake_upstream.api_key = "sk-ant-someone-else"
    # when / then
    with pytest.raises(ProviderError, match="invalid x-api-key") as caught:
        gateway.chat(ask("hello"))
    assert (caught.value.status, caught.value.retryable) == (401, False)
    assert caught.value.provider_code == "authentication_error"
    assert len(fake_upstream.requests) == 1


def test_stream_yields_deltas_then_finish_and_usage(claude: Deployment) -> None:
    # when
    chunks = list(gateway.stream(ask("one two three")))
    # then
    assert "".join(c.delta for c in chunks) == "Echo: one two three"
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert chunks[-1].usage == Usage(prompt_tokens=3, completion_tokens=4)


def test_tool_call_round_trip(claude: Deployment, fake_upstream: FakeUpstream) -> None:
    # given the model is offered a tool and asked to use it
    question = ChatMessage(role="user", content="Please use the tool for 휴가 규정")
    first = gateway.chat(ChatRequest(model="claude", messages=[question], tools=[SEARCH]))
    assert first.finish_reason == "tool_calls"
    [call] = first.tool_calls
    assert call.name == "search"
    assert json.loads(call.arguments) == {"query": "Please use the tool for 휴가 규정"}
    # when the caller answers the call and asks again
    follow_up = ChatRequest(
        model="claude",
        messages=[
            question,
            ChatMessage(role="assistant", content=None, tool_calls=(call,)),
            ChatMessage(role="tool", content="연차 15일", tool_call_id=call.id),
        ],
        tools=[SEARCH],
    )
    second = gateway.chat(follow_up)
    # then the fake (which rejects misordered tool results) answered from the result
    assert second.content == "Echo: 연차 15일"
    assert second.finish_reason == "stop"
    assert [m["role"] for m in fake_upstream.requests[1].body["messages"]] == [
        "user",
        "assistant",
        "user",
    ]
    assert fake_upstream.requests[1].body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": call.id, "content": "연차 15일"}
    ]


def test_streamed_tool_call_is_assembled_from_deltas(claude: Deployment) -> None:
    # when
    chunks = list(gateway.stream(ask("which tool?", tools=[SEARCH])))
    # then
    calls = [c for chunk in chunks for c in chunk.tool_calls]
    assert {c.index for c in calls} == {0}
    assert [(c.id, c.name) for c in calls if c.id] == [("toolu_fake1", "search")]
    assert json.loads("".join(c.arguments for c in calls)) == {"query": "which tool?"}
    assert chunks[-1].finish_reason == "tool_calls"


def test_json_schema_is_answered_through_the_forced_tool(
    claude: Deployment, fake_upstream: FakeUpstream
) -> None:
    # given a json_schema response format
    schema = {"type": "object", "properties": {"query": {"type": "string"}}}
    response_format: dict[str, Any] = {
        "type": "json_schema",
        "json_schema": {"name": "q", "schema": schema},
    }
    # when
    response = gateway.chat(ask("세 단어 문장", response_format=response_format))
    # then the forced tool's input comes back as the text answer
    assert json.loads(response.content) == {"query": "세 단어 문장"}
    assert response.tool_calls == ()
    assert response.finish_reason == "stop"
    assert fake_upstream.requests[0].body["tool_choice"] == {
        "type": "tool",
        "name": "json_response",
    }


def test_overloaded_529_is_retried_then_succeeds(
    claude: Deployment, fake_upstream: FakeUpstream
) -> None:
    # given one overloaded answer with a Retry-After
    fake_upstream.inject(Fault(status=529, message="Overloaded", retry_after=0.05))
    # when
    response = gateway.chat(ask("hello again"))
    # then
    assert response.content == "Echo: hello again"
    assert len(fake_upstream.requests) == 2


def test_stream_dropped_midway_raises(claude: Deployment, fake_upstream: FakeUpstream) -> None:
    # given the connection drops after two text deltas
    fake_upstream.inject(Fault(drop_after_chunks=2))
    received: list[str] = []

    def consume() -> None:
        for chunk in gateway.stream(ask("a b c d e f")):
            received.append(chunk.delta)

    # when / then
    with pytest.raises(ProviderError):
        consume()
    assert "".join(received) == "Echo: a"
    assert len(fake_upstream.requests) == 1


def test_misordered_tool_result_never_reaches_the_upstream(
    claude: Deployment, fake_upstream: FakeUpstream
) -> None:
    # given a tool result after an intervening user message
    request = ChatRequest(
        model="claude",
        messages=[
            ChatMessage(role="user", content="hi"),
            ChatMessage(
                role="assistant",
                content=None,
                tool_calls=(ToolCall(id="toolu_1", name="search", arguments="{}"),),
            ),
            ChatMessage(role="user", content="hurry"),
            ChatMessage(role="tool", content="late", tool_call_id="toolu_1"),
        ],
        tools=[SEARCH],
    )
    # when / then
    with pytest.raises(ConfigError, match="no tool result right after it") as caught:
        gateway.chat(request)
    assert caught.value.status == 400
    assert fake_upstream.requests == []
