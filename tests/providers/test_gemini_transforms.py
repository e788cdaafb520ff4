"""Pure request transforms of the gemini adapter (shared with vertex_ai): the
GenerateContentRequest body, tools, thinking, safety settings and thought signatures.
Parsing is in ``test_gemini_parsing``, Vertex URLs and auth in ``test_gemini_vertex``.
No network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from providers.adapters.gemini import GeminiAdapter
from providers.adapters.gemini.request import SKIP_SIGNATURE
from providers.adapters.gemini.tool_ids import signature_from, tool_call_id
from providers.errors import ConfigError
from providers.types import (
    ChatMessage,
    ChatRequest,
    DeploymentTarget,
    ReasoningEffort,
    ToolCall,
    ToolSpec,
)

SAMPLES = Path(__file__).parent / "samples"
TARGET = DeploymentTarget(
    deployment_id=3,
    provider="gemini",
    upstream_model="gemini-2.5-flash",
    api_base="",
    api_key="gk-secret",
)
ADAPTER = GeminiAdapter()
WEATHER = ToolSpec(
    name="get_weather",
    description="오늘 날씨",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
)


def ask(*messages: ChatMessage, **fields: Any) -> ChatRequest:
    return ChatRequest(model="gem", messages=list(messages), **fields)


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def wire(request: ChatRequest, target: DeploymentTarget = TARGET) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(ADAPTER.build_chat_call(target, request, stream=False).body)
    return body


def with_model(model: str, **fields: Any) -> DeploymentTarget:
    return DeploymentTarget(
        deployment_id=3, provider="gemini", upstream_model=model, api_base="", **fields
    )


# --- the call -------------------------------------------------------------------------


def test_chat_call_puts_the_key_in_a_header_and_maps_sampling() -> None:
    # given
    request = ask(user("안녕"), temperature=0.2, top_p=0.9, max_tokens=64, stop=["\n\n"], seed=7)
    # when
    call = ADAPTER.build_chat_call(TARGET, request, stream=False)
    # then
    assert call.url == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert call.headers["x-goog-api-key"] == "gk-secret"
    assert "gk-secret" not in call.url
    assert json.loads(call.body) == {
        "contents": [{"role": "user", "parts": [{"text": "안녕"}]}],
        "generationConfig": {
            "temperature": 0.2,
            "topP": 0.9,
            "maxOutputTokens": 64,
            "stopSequences": ["\n\n"],
            "seed": 7,
        },
    }


@pytest.mark.parametrize(
    ("api_base", "expected"),
    [
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000/v1beta/models/m:streamGenerateContent"),
        (
            "https://proxy.internal/v1beta",
            "https://proxy.internal/v1beta/models/m:streamGenerateContent",
        ),
    ],
)
def test_stream_call_uses_sse_and_api_base_replaces_the_host(api_base: str, expected: str) -> None:
    # given
    target = DeploymentTarget(
        deployment_id=1, provider="gemini", upstream_model="models/m", api_base=api_base
    )
    # when
    call = ADAPTER.build_chat_call(target, ask(user("hi")), stream=True)
    # then
    assert call.url == expected + "?alt=sse"
    assert "x-goog-api-key" not in call.headers


def test_roles_system_instruction_and_turn_merging() -> None:
    # given system and developer messages, and two user messages in a row
    request = ask(
        ChatMessage(role="system", content="한국어로 답하세요."),
        ChatMessage(role="developer", content="짧게."),
        user("첫째"),
        user("둘째"),
        ChatMessage(role="assistant", content="네."),
        ChatMessage(role="assistant", content=None),
        user("셋째"),
    )
    # when
    body = wire(request)
    # then
    assert body["systemInstruction"] == {
        "parts": [{"text": "한국어로 답하세요."}, {"text": "짧게."}]
    }
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "첫째"}, {"text": "둘째"}]},
        {"role": "model", "parts": [{"text": "네."}]},
        {"role": "user", "parts": [{"text": "셋째"}]},
    ]


def test_images_become_inline_data_or_file_data() -> None:
    # given a data: URL and an https URL
    request = ask(
        ChatMessage(
            role="user",
            content=[
                {"type": "text", "text": "무엇이 보이나요?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.webp?x=1"}},
            ],
        )
    )
    # when
    parts = wire(request)["contents"][0]["parts"]
    # then
    assert parts == [
        {"text": "무엇이 보이나요?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/cat.webp?x=1"}},
    ]


@pytest.mark.parametrize("url", ["data:image/png,rawbytes", "file:///etc/passwd"])
def test_unusable_image_urls_are_refused(url: str) -> None:
    request = ask(
        ChatMessage(role="user", content=[{"type": "image_url", "image_url": {"url": url}}])
    )
    with pytest.raises(ConfigError):
        wire(request)


def test_tools_and_tool_results_find_the_function_name_by_call_id() -> None:
    # given two parallel calls answered by two tool messages (one JSON, one text)
    request = ask(
        user("서울과 부산 날씨?"),
        ChatMessage(
            role="assistant",
            content="확인해 볼게요.",
            tool_calls=(
                ToolCall(id="call_a", name="get_weather", arguments='{"city":"서울"}'),
                ToolCall(id="call_b", name="get_forecast", arguments=""),
            ),
        ),
        ChatMessage(role="tool", content='{"sky": "맑음"}', tool_call_id="call_a"),
        ChatMessage(role="tool", content="비", tool_call_id="call_b"),
        tools=[WEATHER, ToolSpec(name="get_forecast")],
    )
    # when
    body = wire(request)
    # then declarations keep the JSON Schema as given
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "오늘 날씨",
                    "parametersJsonSchema": WEATHER.parameters,
                },
                {"name": "get_forecast"},
            ]
        }
    ]
    assert "toolConfig" not in body
    # and the calls and both results (in one user turn) are named
    assert body["contents"][1] == {
        "role": "model",
        "parts": [
            {"text": "확인해 볼게요."},
            {"functionCall": {"name": "get_weather", "args": {"city": "서울"}}},
            {"functionCall": {"name": "get_forecast", "args": {}}},
        ],
    }
    assert body["contents"][2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"sky": "맑음"}}},
            {"functionResponse": {"name": "get_forecast", "response": {"result": "비"}}},
        ],
    }


def test_a_tool_result_for_an_unknown_call_is_refused() -> None:
    request = ask(user("hi"), ChatMessage(role="tool", content="x", tool_call_id="call_zzz"))
    with pytest.raises(ConfigError, match="tool_call_id"):
        wire(request)


def test_tool_call_arguments_must_be_a_json_object() -> None:
    request = ask(
        user("hi"),
        ChatMessage(
            role="assistant",
            content=None,
            tool_calls=(ToolCall(id="c", name="f", arguments="[1, 2]"),),
        ),
    )
    with pytest.raises(ConfigError, match="JSON object"):
        wire(request)


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
    ],
)
def test_tool_choice_becomes_function_calling_config(
    choice: str | dict[str, Any], config: dict[str, Any]
) -> None:
    body = wire(ask(user("hi"), tools=[WEATHER], tool_choice=choice))
    assert body["toolConfig"] == {"functionCallingConfig": config}


@pytest.mark.parametrize(
    ("effort", "budget"), [("minimal", 512), ("low", 1024), ("medium", 8192), ("high", 24576)]
)
def test_reasoning_effort_is_a_thinking_budget_before_gemini_3(
    effort: ReasoningEffort, budget: int
) -> None:
    body = wire(ask(user("hi"), reasoning_effort=effort), with_model("gemini-2.5-pro"))
    assert body["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": budget,
        "includeThoughts": True,
    }


@pytest.mark.parametrize("model", ["gemini-3-pro-preview", "gemini-3.1-flash-lite"])
def test_reasoning_effort_is_a_thinking_level_from_gemini_3(model: str) -> None:
    body = wire(ask(user("hi"), reasoning_effort="low"), with_model(model))
    assert body["generationConfig"]["thinkingConfig"] == {
        "thinkingLevel": "low",
        "includeThoughts": True,
    }


def test_safety_settings_come_from_the_deployment_or_the_request() -> None:
    # given a deployment with safety settings
    deployment_settings = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    request_settings = [
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "BLOCK_ONLY_HIGH"}
    ]
    target = with_model("gemini-2.5-flash", params={"safety_settings": deployment_settings})
    # when / then
    assert wire(ask(user("hi")), target)["safetySettings"] == deployment_settings
    overridden = ask(user("hi"), extra={"safety_settings": request_settings})
    assert wire(overridden, target)["safetySettings"] == request_settings


def test_safety_settings_must_be_a_list() -> None:
    with pytest.raises(ConfigError, match="safety_settings"):
        wire(ask(user("hi"), extra={"safety_settings": "BLOCK_NONE"}))


def test_other_extra_parameters_pass_through() -> None:
    request = ask(user("hi"), extra={"top_k": 20, "cachedContent": "cachedContents/abc"})
    body = wire(request)
    assert body["generationConfig"] == {"topK": 20}
    assert body["cachedContent"] == "cachedContents/abc"


def test_response_format_becomes_json_mime_type_and_schema() -> None:
    # given
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    as_schema = {"type": "json_schema", "json_schema": {"name": "a", "schema": schema}}
    # when
    json_object = wire(ask(user("hi"), response_format={"type": "json_object"}))
    json_schema = wire(ask(user("hi"), response_format=as_schema))
    # then
    assert json_object["generationConfig"] == {"responseMimeType": "application/json"}
    assert json_schema["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }


# --- thought signatures ----------------------------------------------------------------


def test_tool_call_ids_carry_a_thought_signature() -> None:
    signed = tool_call_id("CiQB0e2K/+d3=")
    assert signature_from(signed) == "CiQB0e2K/+d3="
    assert signature_from(tool_call_id()) is None
    assert signature_from("call_abc") is None


def test_signatures_from_a_response_go_back_on_the_replayed_calls() -> None:
    # given a Gemini 3 answer with two parallel calls, only the first signed
    target = with_model("gemini-3-flash-preview")
    body = (SAMPLES / "gemini_function_call_response.json").read_bytes()
    answer = ADAPTER.parse_chat_response(body, request=ask(user("날씨?")), target=target)
    # when the conversation is sent back with the results
    replay = ask(
        user("날씨?"),
        ChatMessage(role="assistant", content=None, tool_calls=answer.tool_calls),
        *(
            ChatMessage(role="tool", content="맑음", tool_call_id=call.id)
            for call in answer.tool_calls
        ),
    )
    parts = wire(replay, target)["contents"][1]["parts"]
    # then the signature sits on the first call, exactly as received
    assert parts[0]["thoughtSignature"] == "CiQB0e2Kb7+d3rV9m6LS8xk1WcqMqzO6y4n0Zf9kT2sUw/dZp0o="
    assert "thoughtSignature" not in parts[1]


@pytest.mark.parametrize(
    ("model", "sentinel"), [("gemini-3-pro-preview", True), ("gemini-2.5-pro", False)]
)
def test_unsigned_calls_replayed_to_gemini_3_get_the_documented_sentinel(
    model: str, sentinel: bool
) -> None:
    # given calls minted by another provider
    calls = (
        ToolCall(id="call_1", name="f", arguments="{}"),
        ToolCall(id="call_2", name="g", arguments="{}"),
    )
    request = ask(user("hi"), ChatMessage(role="assistant", content=None, tool_calls=calls))
    # when
    parts = wire(request, with_model(model))["contents"][1]["parts"]
    # then only the first call of the turn carries it
    assert ("thoughtSignature" in parts[0]) is sentinel
    assert parts[0].get("thoughtSignature", SKIP_SIGNATURE) == SKIP_SIGNATURE
    assert "thoughtSignature" not in parts[1]
