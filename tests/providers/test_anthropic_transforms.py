"""Pure transforms of the Anthropic adapter: building the Messages request.

Parsing answers, streams and errors is in ``test_anthropic_parsing.py``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from providers.adapters.anthropic import AnthropicAdapter
from providers.errors import ConfigError
from providers.types import (
    ChatMessage,
    ChatRequest,
    ContentPart,
    DeploymentTarget,
    ImagePart,
    ReasoningEffort,
    TextPart,
    ToolCall,
    ToolSpec,
)

if TYPE_CHECKING:
    from providers.adapters.base import Adapter

TARGET = DeploymentTarget(
    deployment_id=3,
    provider="anthropic",
    upstream_model="claude-sonnet-4-20250514",
    api_base="",
    api_key="sk-ant-secret",
)
ADAPTER = AnthropicAdapter()
PROTOCOL_CHECK: Adapter = ADAPTER  # mypy proves the adapter satisfies the protocol
WEATHER = ToolSpec(
    name="get_weather",
    description="Current weather",
    parameters={"type": "object", "properties": {"location": {"type": "string"}}},
)


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def body_of(request: ChatRequest, *, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(ADAPTER.build_chat_call(TARGET, request, stream=stream).body)
    return body


def calls(*pairs: tuple[str, str]) -> tuple[ToolCall, ...]:
    return tuple(ToolCall(id=i, name="get_weather", arguments=args) for i, args in pairs)


def test_build_chat_call_lifts_system_and_maps_parameters() -> None:
    # given a request with system and developer messages and the common parameters
    request = ChatRequest(
        model="claude",
        messages=[
            ChatMessage(role="system", content="You are terse."),
            ChatMessage(role="developer", content="Answer in Korean."),
            user("안녕"),
        ],
        temperature=0.2,
        top_p=0.9,
        stop=["END"],
        user="user-42",
        seed=7,
        extra={"top_k": 5},
    )
    # when
    call = ADAPTER.build_chat_call(TARGET, request, stream=True)
    # then the system prompt is a top-level field and max_tokens has its default
    assert call.url == "https://api.anthropic.com/v1/messages"
    assert call.headers == {
        "content-type": "application/json",
        "anthropic-version": "2023-06-01",
        "x-api-key": "sk-ant-secret",
    }
    assert json.loads(call.body) == {
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 4096,
        "system": "You are terse.\n\nAnswer in Korean.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "안녕"}]}],
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "user-42"},
        "top_k": 5,
        "stream": True,
    }


@pytest.mark.parametrize(
    ("api_base", "url"),
    [
        ("", "https://api.anthropic.com/v1/messages"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000/v1/messages"),
        ("https://proxy.internal/v1", "https://proxy.internal/v1/messages"),
        ("https://proxy.internal/v1/messages", "https://proxy.internal/v1/messages"),
    ],
)
def test_messages_url_is_appended_to_api_base(api_base: str, url: str) -> None:
    target = DeploymentTarget(3, "anthropic", "claude", api_base=api_base, api_version="2099-01-01")
    call = ADAPTER.build_chat_call(
        target, ChatRequest(model="c", messages=[user("hi")]), stream=False
    )
    assert call.url == url
    assert call.headers["anthropic-version"] == "2099-01-01"
    assert "x-api-key" not in call.headers


def test_consecutive_same_role_messages_are_merged() -> None:
    # given two user messages split by a system message, then two assistant messages
    request = ChatRequest(
        model="c",
        messages=[
            user("one"),
            ChatMessage(role="system", content="be kind"),
            user("two"),
            ChatMessage(role="assistant", content="three"),
            ChatMessage(role="assistant", content=""),
            ChatMessage(role="assistant", content="four"),
        ],
    )
    # when
    body = body_of(request)
    # then the turns alternate and empty text is dropped
    assert body["system"] == "be kind"
    assert body["messages"] == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        },
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "three"}, {"type": "text", "text": "four"}],
        },
    ]


def test_tool_calls_and_results_become_tool_use_and_tool_result_blocks() -> None:
    # given an assistant turn with two calls, both answered, then a user follow-up
    request = ChatRequest(
        model="c",
        messages=[
            user("Weather in Seoul and Busan?"),
            ChatMessage(
                role="assistant",
                content="Checking.",
                tool_calls=calls(("toolu_1", '{"location":"서울"}'), ("toolu_2", "")),
            ),
            ChatMessage(role="tool", content="맑음", tool_call_id="toolu_1"),
            ChatMessage(role="system", content="Use Celsius."),
            ChatMessage(
                role="tool",
                content=[TextPart(type="text", text="비")],
                tool_call_id="toolu_2",
            ),
            user("Thanks, and tomorrow?"),
        ],
        tools=[WEATHER],
        tool_choice="auto",
    )
    # when
    body = body_of(request)
    # then
    assert body["tools"] == [
        {
            "name": "get_weather",
            "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}},
            "description": "Current weather",
        }
    ]
    assert body["tool_choice"] == {"type": "auto"}
    assert body["system"] == "Use Celsius."
    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"location": "서울"},
                },
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "맑음"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [{"type": "text", "text": "비"}],
                },
                {"type": "text", "text": "Thanks, and tomorrow?"},
            ],
        },
    ]


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ("none", {"type": "none"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "tool", "name": "get_weather"},
        ),
    ],
)
def test_tool_choice_mapping(choice: str | dict[str, Any], wire: dict[str, str]) -> None:
    request = ChatRequest(model="c", messages=[user("hi")], tools=[WEATHER], tool_choice=choice)
    assert body_of(request)["tool_choice"] == wire


ASSISTANT_CALL = ChatMessage(role="assistant", content=None, tool_calls=calls(("toolu_1", "{}")))


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        (
            [user("hi"), ChatMessage(role="tool", content="x", tool_call_id="toolu_1")],
            "does not directly follow",
        ),
        (
            [
                user("hi"),
                ASSISTANT_CALL,
                user("wait"),
                ChatMessage(role="tool", content="x", tool_call_id="toolu_1"),
            ],
            "has no tool result",
        ),
        ([user("hi"), ASSISTANT_CALL, user("never mind")], "toolu_1' has no tool result"),
        ([user("hi"), ASSISTANT_CALL], "has no tool result"),
        (
            [
                user("hi"),
                ASSISTANT_CALL,
                ChatMessage(role="tool", content="x", tool_call_id="toolu_9"),
            ],
            "'toolu_9' does not directly follow",
        ),
        (
            [
                user("hi"),
                ASSISTANT_CALL,
                ChatMessage(role="tool", content="x", tool_call_id="toolu_1"),
                ChatMessage(role="tool", content="y", tool_call_id="toolu_1"),
            ],
            "answered twice",
        ),
        (
            [user("hi"), ASSISTANT_CALL, ChatMessage(role="tool", content="x")],
            "needs the tool_call_id",
        ),
        (
            [
                user("hi"),
                ChatMessage(role="assistant", content=None, tool_calls=calls(("t", "{oops"))),
            ],
            "not valid JSON",
        ),
        (
            [
                user("hi"),
                ChatMessage(role="assistant", content=None, tool_calls=calls(("t", "[1]"))),
            ],
            "must be a JSON object",
        ),
        ([ChatMessage(role="system", content="only a system prompt")], "no user or assistant"),
    ],
)
def test_tool_ordering_and_argument_errors_are_clear(
    messages: list[ChatMessage], problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        body_of(ChatRequest(model="c", messages=messages))
    assert caught.value.status == 400


def test_images_from_data_and_https_urls() -> None:
    # given a user message with a base64 data: URL and an https URL
    content: list[ContentPart] = [
        TextPart(type="text", text="Compare"),
        ImagePart(type="image_url", image_url={"url": "data:image/png;base64,iVBORw0KGgo="}),
        ImagePart(type="image_url", image_url={"url": "https://example.com/cat.jpg"}),
    ]
    request = ChatRequest(model="c", messages=[ChatMessage(role="user", content=content)])
    # when
    blocks = body_of(request)["messages"][0]["content"]
    # then
    assert blocks == [
        {"type": "text", "text": "Compare"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://example.com/cat.jpg", "https:// URLs"),
        ("data:image/png,rawbytes", "base64-encoded"),
        ("data:image/bmp;base64,Qk0=", "image/bmp"),
    ],
)
def test_unusable_image_urls_are_config_errors(url: str, problem: str) -> None:
    part = ImagePart(type="image_url", image_url={"url": url})
    request = ChatRequest(model="c", messages=[ChatMessage(role="user", content=[part])])
    with pytest.raises(ConfigError, match=problem):
        body_of(request)


@pytest.mark.parametrize(
    ("effort", "max_tokens", "budget", "sent_max_tokens"),
    [
        ("low", None, 1024, 4096),
        ("medium", None, 4096, 8192),
        ("high", None, 16384, 20480),
        ("low", 8000, 1024, 8000),
        ("high", 1000, 16384, 17384),
    ],
)
def test_reasoning_effort_becomes_a_thinking_budget_below_max_tokens(
    effort: ReasoningEffort, max_tokens: int | None, budget: int, sent_max_tokens: int
) -> None:
    request = ChatRequest(
        model="c", messages=[user("hi")], reasoning_effort=effort, max_tokens=max_tokens
    )
    body = body_of(request)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert body["max_tokens"] == sent_max_tokens > budget


def test_minimal_reasoning_effort_means_no_thinking() -> None:
    body = body_of(ChatRequest(model="c", messages=[user("hi")], reasoning_effort="minimal"))
    assert "thinking" not in body
    assert body["max_tokens"] == 4096


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"temperature": 0.3}, "temperature"),
        ({"tools": [WEATHER], "tool_choice": "required"}, "forced tool_choice"),
        ({"response_format": {"type": "json_object"}}, "JSON output"),
    ],
)
def test_thinking_conflicts_are_reported_before_the_call(
    fields: dict[str, Any], problem: str
) -> None:
    request = ChatRequest(model="c", messages=[user("hi")], reasoning_effort="low", **fields)
    with pytest.raises(ConfigError, match=problem):
        body_of(request)


SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
JSON_SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "city", "description": "The city asked about", "schema": SCHEMA},
}


def test_json_schema_is_served_by_a_forced_tool() -> None:
    # given
    request = ChatRequest(model="c", messages=[user("Where?")], response_format=JSON_SCHEMA_FORMAT)
    # when
    body = body_of(request)
    # then
    assert body["tools"] == [
        {"name": "json_response", "description": "The city asked about", "input_schema": SCHEMA}
    ]
    assert body["tool_choice"] == {"type": "tool", "name": "json_response"}


def test_json_output_with_own_tools_lets_the_model_call_any_tool() -> None:
    request = ChatRequest(
        model="c",
        messages=[user("Where?")],
        tools=[WEATHER],
        response_format={"type": "json_object"},
    )
    body = body_of(request)
    assert [t["name"] for t in body["tools"]] == ["get_weather", "json_response"]
    assert body["tools"][1]["input_schema"] == {"type": "object"}
    assert body["tool_choice"] == {"type": "any"}


@pytest.mark.parametrize(
    ("response_format", "problem"),
    [
        (
            {"type": "json_schema", "json_schema": {"schema": {"type": "array"}}},
            "object at the root",
        ),
        ({"type": "grammar"}, "Unsupported response_format"),
    ],
)
def test_unusable_response_formats(response_format: dict[str, Any], problem: str) -> None:
    request = ChatRequest(model="c", messages=[user("hi")], response_format=response_format)
    with pytest.raises(ConfigError, match=problem):
        body_of(request)
