"""Pure transforms of the Bedrock adapter: Converse requests, responses and errors, on
documented wire shapes and recorded samples (the event stream: test_bedrock_eventstream)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from providers.adapters.base import HttpCall
from providers.adapters.bedrock import BedrockAdapter
from providers.adapters.bedrock.response import map_error
from providers.errors import ConfigError, ProviderError
from providers.types import (
    ChatMessage,
    ChatRequest,
    DeploymentTarget,
    EmbeddingRequest,
    ToolCall,
    ToolSpec,
    Usage,
)
from tests import aio

SAMPLES = Path(__file__).parent / "samples"
CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
TARGET = DeploymentTarget(
    deployment_id=3,
    provider="bedrock",
    upstream_model=CLAUDE,
    api_base="",
    credentials={"aws_access_key_id": "AKIDEXAMPLE", "aws_secret_access_key": "s3cr3t/KEY"},
    params={"aws_region_name": "ap-northeast-2"},
)
ADAPTER = BedrockAdapter()
PNG_1PX = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9"
    "awAAAABJRU5ErkJggg=="
)


def user(text: str) -> ChatMessage:
    return ChatMessage(role="user", content=text)


def body_of(request: ChatRequest, target: DeploymentTarget = TARGET) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(ADAPTER.build_chat_call(target, request, stream=False).body)
    return body


def ask(*messages: ChatMessage, **fields: Any) -> ChatRequest:
    return ChatRequest(model="claude", messages=list(messages), **fields)


# --- requests -------------------------------------------------------------------


def test_converse_call_uses_the_regional_endpoint_and_encoded_model_id() -> None:
    # given a request with sampling parameters and a provider extra
    request = ask(user("안녕"), max_tokens=50, temperature=0.2, top_p=0.9, stop=["END"])
    # when
    call = ADAPTER.build_chat_call(TARGET, request, stream=False)
    stream_call = ADAPTER.build_chat_call(TARGET, request, stream=True)
    # then
    assert call.url == (
        "https://bedrock-runtime.ap-northeast-2.amazonaws.com/model/"
        "anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    )
    assert stream_call.url.endswith("-v1%3A0/converse-stream")
    assert call.headers == {"Content-Type": "application/json", "Accept": "application/json"}
    assert stream_call.headers["Accept"] == "application/vnd.amazon.eventstream"
    assert json.loads(call.body) == {
        "messages": [{"role": "user", "content": [{"text": "안녕"}]}],
        "inferenceConfig": {
            "maxTokens": 50,
            "temperature": 0.2,
            "topP": 0.9,
            "stopSequences": ["END"],
        },
    }
    assert "Authorization" not in call.headers  # signing happens in authorize


def test_api_base_overrides_the_endpoint() -> None:
    # given a target pointed at a proxy
    target = DeploymentTarget(3, "bedrock", f"converse/{CLAUDE}", api_base="http://proxy:9000/")
    # when
    call = ADAPTER.build_chat_call(target, ask(user("hi")), stream=False)
    # then LiteLLM's converse/ route prefix is not part of the id
    assert (
        call.url == "http://proxy:9000/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    )


def test_an_inference_profile_arn_stays_one_path_segment() -> None:
    # given a deployment addressed by an inference profile ARN
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-7"
    target = DeploymentTarget(3, "bedrock", arn, api_base="")
    # when
    call = ADAPTER.build_chat_call(target, ask(user("hi")), stream=False)
    # then ':' and '/' are percent-encoded
    assert call.url == (
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-east-1"
        "%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-7/converse"
    )


def test_system_and_developer_messages_are_lifted_out() -> None:
    # given system text at the start and a developer note in the middle
    request = ask(
        ChatMessage(role="system", content="You are terse."),
        user("Hi"),
        ChatMessage(role="developer", content=[{"type": "text", "text": "Answer in Korean."}]),
        ChatMessage(role="assistant", content="안녕하세요"),
    )
    # when
    body = body_of(request)
    # then
    assert body["system"] == [{"text": "You are terse."}, {"text": "Answer in Korean."}]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]


def test_consecutive_same_role_messages_merge_and_empty_ones_drop() -> None:
    # given two user messages in a row, an empty assistant turn, then two assistants
    request = ask(
        user("one"),
        user("two"),
        ChatMessage(role="assistant", content="  "),
        ChatMessage(role="assistant", content="three"),
        ChatMessage(role="assistant", content="four"),
        user("five"),
    )
    # when
    messages = body_of(request)["messages"]
    # then roles alternate and no block is lost or blank
    assert messages == [
        {"role": "user", "content": [{"text": "one"}, {"text": "two"}]},
        {"role": "assistant", "content": [{"text": "three"}, {"text": "four"}]},
        {"role": "user", "content": [{"text": "five"}]},
    ]


def test_tool_calls_and_results_become_tool_use_and_tool_result_blocks() -> None:
    # given a full tool round trip with two parallel calls
    request = ask(
        user("날씨?"),
        ChatMessage(
            role="assistant",
            content="확인할게요",
            tool_calls=(
                ToolCall(id="tooluse_1", name="weather", arguments='{"city":"서울"}'),
                ToolCall(id="tooluse_2", name="weather", arguments=""),
            ),
        ),
        ChatMessage(role="tool", content="맑음", tool_call_id="tooluse_1"),
        ChatMessage(role="tool", content="흐림", tool_call_id="tooluse_2"),
        user("고마워"),
        tools=[ToolSpec(name="weather", description="오늘 날씨", parameters={"type": "object"})],
    )
    # when
    messages = body_of(request)["messages"]
    # then arguments are parsed JSON, results share one user turn with the next text
    assert messages[1] == {
        "role": "assistant",
        "content": [
            {"text": "확인할게요"},
            {"toolUse": {"toolUseId": "tooluse_1", "name": "weather", "input": {"city": "서울"}}},
            {"toolUse": {"toolUseId": "tooluse_2", "name": "weather", "input": {}}},
        ],
    }
    assert messages[2] == {
        "role": "user",
        "content": [
            {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "맑음"}]}},
            {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": "흐림"}]}},
            {"text": "고마워"},
        ],
    }


def test_malformed_tool_arguments_are_a_config_error() -> None:
    call = ToolCall(id="tooluse_9", name="weather", arguments="{not json")
    request = ask(user("x"), ChatMessage(role="assistant", content=None, tool_calls=(call,)))
    with pytest.raises(ConfigError, match="tooluse_9"):
        body_of(request)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        ("auto", {"auto": {}}),
        ("required", {"any": {}}),
        ({"type": "function", "function": {"name": "weather"}}, {"tool": {"name": "weather"}}),
    ],
)
def test_tools_become_tool_config_with_tool_choice(
    choice: str | dict[str, Any] | None, expected: dict[str, Any] | None
) -> None:
    # given one described tool and one without description or parameters
    tools = [
        ToolSpec(name="weather", description="오늘 날씨", parameters={"type": "object"}),
        ToolSpec(name="now"),
    ]
    # when
    config = body_of(ask(user("x"), tools=tools, tool_choice=choice))["toolConfig"]
    # then
    assert config["tools"] == [
        {
            "toolSpec": {
                "name": "weather",
                "description": "오늘 날씨",
                "inputSchema": {"json": {"type": "object"}},
            }
        },
        {
            "toolSpec": {
                "name": "now",
                "inputSchema": {"json": {"type": "object", "properties": {}}},
            }
        },
    ]
    assert config.get("toolChoice") == expected


def test_tool_choice_none_drops_tools_unless_the_history_needs_them() -> None:
    # given tools offered with tool_choice "none"
    tools = [ToolSpec(name="weather")]
    # when there is no tool history / when there is
    plain = body_of(ask(user("x"), tools=tools, tool_choice="none"))
    call = ToolCall(id="t1", name="lookup", arguments="{}")
    with_history = body_of(
        ask(
            user("x"),
            ChatMessage(role="assistant", content=None, tool_calls=(call,)),
            ChatMessage(role="tool", content="ok", tool_call_id="t1"),
            tools=tools,
            tool_choice="none",
        )
    )
    # then Converse gets no toolConfig, or one (without a choice) that also covers
    # the tool the history used
    assert "toolConfig" not in plain
    names = [t["toolSpec"]["name"] for t in with_history["toolConfig"]["tools"]]
    assert names == ["weather", "lookup"]
    assert "toolChoice" not in with_history["toolConfig"]


def test_images_travel_as_base64_bytes() -> None:
    # given a user message with text and an inline PNG
    content: Any = [
        {"type": "text", "text": "이게 뭐야?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}},
    ]
    # when
    blocks = body_of(ask(ChatMessage(role="user", content=content)))["messages"][0]["content"]
    # then
    assert blocks == [
        {"text": "이게 뭐야?"},
        {"image": {"format": "png", "source": {"bytes": PNG_1PX}}},
    ]


def test_image_urls_are_refused() -> None:
    content: Any = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    with pytest.raises(ConfigError, match="data:image"):
        body_of(ask(ChatMessage(role="user", content=content)))


def test_reasoning_effort_becomes_claude_thinking() -> None:
    # when reasoning is asked of Claude with and without max_tokens, and of another model
    default = body_of(ask(user("x"), reasoning_effort="medium"))
    bounded = body_of(ask(user("x"), reasoning_effort="low", max_tokens=3000))
    nova = DeploymentTarget(3, "bedrock", "amazon.nova-pro-v1:0", api_base="")
    other = body_of(ask(user("x"), reasoning_effort="high"), nova)
    # then Claude gets a thinking budget that leaves room for the answer
    assert default["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }
    assert default["inferenceConfig"] == {"maxTokens": 2048 + 4096}
    assert bounded["inferenceConfig"] == {"maxTokens": 3000}
    assert "additionalModelRequestFields" not in other


def test_max_tokens_below_the_thinking_budget_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="thinking budget"):
        body_of(ask(user("x"), reasoning_effort="high", max_tokens=1000))


def test_extra_goes_to_additional_fields_or_the_top_level() -> None:
    # given a model parameter and a Converse-level field in extra
    guardrail = {"guardrailIdentifier": "gr-1", "guardrailVersion": "1"}
    request = ask(user("x"), extra={"top_k": 40, "guardrailConfig": guardrail})
    # when
    body = body_of(request)
    # then
    assert body["additionalModelRequestFields"] == {"top_k": 40}
    assert body["guardrailConfig"] == guardrail


def test_json_schema_response_format_becomes_output_config() -> None:
    # given an OpenAI json_schema response format
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    response_format = {"type": "json_schema", "json_schema": {"name": "person", "schema": schema}}
    # when
    body = body_of(ask(user("x"), response_format=response_format))
    # then the schema travels as a JSON string
    structure = body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    assert body["outputConfig"]["textFormat"]["type"] == "json_schema"
    assert structure["name"] == "person"
    assert json.loads(structure["schema"]) == schema
    with pytest.raises(ConfigError, match="json_schema"):
        body_of(ask(user("x"), response_format={"type": "json_object"}))


def test_a_request_with_only_system_text_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least one"):
        body_of(ask(ChatMessage(role="system", content="rules")))


# --- responses ------------------------------------------------------------------


def test_parse_converse_response_sample() -> None:
    # given a text answer with reasoning and a prompt-cache hit
    body = (SAMPLES / "bedrock_converse_response.json").read_bytes()
    # when
    response = ADAPTER.parse_chat_response(body, request=ask(), target=TARGET)
    # then cached tokens count inside prompt_tokens, as canonical usage says
    assert response.content.startswith("The Converse API sends messages")
    assert response.reasoning == "The user wants a one-line summary of the Converse API."
    assert response.finish_reason == "stop"
    assert response.usage == Usage(
        prompt_tokens=21 + 1024, completion_tokens=58, cached_tokens=1024
    )
    assert response.model == "claude"
    assert response.deployment_id == 3
    assert response.id.startswith("chatcmpl-bedrock-")


def test_parse_documented_tool_use_response() -> None:
    # given the top_song example of "Call a tool with the Converse API" (no usage in it)
    body = (SAMPLES / "bedrock_converse_tool_use.json").read_bytes()
    # when
    response = ADAPTER.parse_chat_response(body, request=ask(), target=TARGET)
    # then
    assert response.tool_calls == (
        ToolCall(
            id="tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", name="top_song", arguments='{"sign": "WZPZ"}'
        ),
    )
    assert response.finish_reason == "tool_calls"
    assert response.content == ""
    assert response.usage == Usage()


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("guardrail_intervened", "content_filter"),
        ("content_filtered", "content_filter"),
        ("malformed_model_output", "stop"),
    ],
)
def test_stop_reasons_map_to_openai_finish_reasons(stop_reason: str, finish: str) -> None:
    payload = {"output": {"message": {"content": [{"text": "x"}]}}, "stopReason": stop_reason}
    response = ADAPTER.parse_chat_response(
        json.dumps(payload).encode(), request=ask(), target=TARGET
    )
    assert response.finish_reason == finish


def test_unexpected_response_shape_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="unexpected shape"):
        ADAPTER.parse_chat_response(b'{"output": {}}', request=ask(), target=TARGET)


# --- errors and the adapter's I/O hook --------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [
        (429, "ThrottlingException", True),
        (503, "ServiceUnavailableException", True),
        (429, "ModelNotReadyException", True),
        (400, "ValidationException", False),
        (403, "AccessDeniedException", False),
        (500, "", True),
    ],
)
def test_map_error_reads_the_aws_error_type(status: int, error_type: str, retryable: bool) -> None:
    # given an AWS JSON error, its type in x-amzn-ErrorType with the usual URL suffix
    headers = {
        "x-amzn-ErrorType": f"{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"
    }
    # when
    error = map_error(status, b'{"message":"Too many requests"}', headers if error_type else {})
    # then
    assert (error.status, error.retryable, error.provider_code) == (status, retryable, error_type)
    assert "Too many requests" in error.message


def test_map_error_falls_back_to_the_body_type() -> None:
    body = b'{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"bad"}'
    error = map_error(403, body, {})
    assert error.provider_code == "UnrecognizedClientException"
    assert error.retryable is False


def authorize(target: DeploymentTarget, call: HttpCall) -> HttpCall:
    async def run() -> HttpCall:
        async with httpx.AsyncClient() as client:
            return await ADAPTER.authorize(call, target, client)

    return aio.run(run())


def test_authorize_signs_for_the_deployment_region_with_the_session_token() -> None:
    # given temporary credentials
    target = DeploymentTarget(
        3,
        "bedrock",
        CLAUDE,
        api_base="",
        credentials={**TARGET.credentials, "aws_session_token": "FwoGZXIvYXdzEXAMPLE"},
        params={"aws_region_name": "eu-central-1"},
    )
    call = ADAPTER.build_chat_call(target, ask(user("x")), stream=False)
    # when
    signed = authorize(target, call)
    # then
    assert signed.headers["Content-Type"] == "application/json"
    assert signed.headers["X-Amz-Security-Token"] == "FwoGZXIvYXdzEXAMPLE"
    authorization = signed.headers["Authorization"]
    assert "/eu-central-1/bedrock/aws4_request" in authorization
    assert "x-amz-security-token" in authorization
    assert signed.body == call.body


def test_missing_credentials_are_a_clean_error_without_secrets() -> None:
    # given a secret key but no access key id
    target = DeploymentTarget(
        3, "bedrock", CLAUDE, api_base="", credentials={"aws_secret_access_key": "s3cr3t/KEY"}
    )
    call = ADAPTER.build_chat_call(target, ask(user("x")), stream=False)
    # when / then
    with pytest.raises(ProviderError, match="aws_access_key_id") as caught:
        authorize(target, call)
    assert (caught.value.status, caught.value.retryable) == (500, False)
    assert "s3cr3t" not in caught.value.message


def test_titan_embeddings_one_input_per_call() -> None:
    # given a Titan v2 deployment
    target = DeploymentTarget(4, "bedrock", "amazon.titan-embed-text-v2:0", api_base="")
    request = EmbeddingRequest(model="titan", inputs=["가나다"], dimensions=256)
    # when
    call = ADAPTER.build_embed_call(target, request)
    response = ADAPTER.parse_embed_response(
        b'{"embedding":[0.6,0.8],"inputTextTokenCount":3}', request=request, target=target
    )
    # then
    assert call.url == (
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke"
    )
    assert json.loads(call.body) == {"inputText": "가나다", "normalize": True, "dimensions": 256}
    assert response.vectors == [[0.6, 0.8]]
    assert response.usage == Usage(prompt_tokens=3)
    with pytest.raises(ConfigError, match="one input per request"):
        ADAPTER.build_embed_call(target, EmbeddingRequest(model="titan", inputs=["a", "b"]))
    cohere = DeploymentTarget(4, "bedrock", "cohere.embed-multilingual-v3", api_base="")
    with pytest.raises(ConfigError, match="Titan"):
        ADAPTER.build_embed_call(cohere, request)
