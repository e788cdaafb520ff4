"""Pure transforms of the OpenAI-compatible adapters, on recorded wire-format samples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from providers.adapters.openai_compat import AzureOpenAIAdapter, OpenAIAdapter, map_error
from providers.errors import ProviderError
from providers.types import (
    ChatMessage,
    ChatRequest,
    DeploymentTarget,
    EmbeddingRequest,
    ToolCall,
    ToolSpec,
    Usage,
)

SAMPLES = Path(__file__).parent / "samples"
TARGET = DeploymentTarget(
    deployment_id=7,
    provider="hosted_vllm",
    upstream_model="Qwen/Qwen3-8B",
    api_base="http://vllm.internal:8000/v1/",
    api_key="sk-secret",
)
ADAPTER = OpenAIAdapter()


def test_build_chat_call_uses_upstream_model_and_bearer_key() -> None:
    request = ChatRequest(
        model="qwen",
        messages=[ChatMessage(role="user", content="안녕")],
        max_tokens=5,
        seed=1,
        reasoning_effort="low",
        extra={"top_k": 20},
    )
    call = ADAPTER.build_chat_call(TARGET, request, stream=True)
    assert call.url == "http://vllm.internal:8000/v1/chat/completions"
    assert call.headers["Authorization"] == "Bearer sk-secret"
    assert json.loads(call.body) == {
        "model": "Qwen/Qwen3-8B",
        "messages": [{"role": "user", "content": "안녕"}],
        "max_tokens": 5,
        "seed": 1,
        "reasoning_effort": "low",
        "top_k": 20,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_tools_and_tool_results_round_trip_to_the_wire() -> None:
    request = ChatRequest(
        model="qwen",
        messages=[
            ChatMessage(role="user", content="날씨?"),
            ChatMessage(
                role="assistant",
                content=None,
                tool_calls=(ToolCall(id="call_1", name="weather", arguments='{"city":"서울"}'),),
            ),
            ChatMessage(role="tool", content="맑음", tool_call_id="call_1"),
        ],
        tools=[ToolSpec(name="weather", description="오늘 날씨", parameters={"type": "object"})],
        tool_choice="auto",
    )
    body = json.loads(ADAPTER.build_chat_call(TARGET, request, stream=False).body)
    assert body["tools"][0]["function"]["name"] == "weather"
    assert body["tool_choice"] == "auto"
    assert body["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"city":"서울"}'
    assert body["messages"][2] == {"role": "tool", "content": "맑음", "tool_call_id": "call_1"}


def test_parse_response_sample() -> None:
    body = (SAMPLES / "openai_chat_response.json").read_bytes()
    request = ChatRequest(model="gpt-4.1", messages=[])
    response = ADAPTER.parse_chat_response(body, request=request, target=TARGET)
    assert response.content == "Hello! How can I assist you today?"
    assert response.finish_reason == "stop"
    assert response.usage == Usage(prompt_tokens=19, completion_tokens=10)
    assert response.model == "gpt-4.1"


def test_stream_sample_in_any_split_gives_text_finish_and_usage() -> None:
    raw = (SAMPLES / "openai_chat_stream.txt").read_bytes()
    request = ChatRequest(model="m", messages=[])
    for size in (1, 7, 64, len(raw)):
        parser = ADAPTER.stream_parser(request=request, target=TARGET)
        chunks = [c for i in range(0, len(raw), size) for c in parser.feed(raw[i : i + size])]
        chunks += parser.close()
        assert "".join(c.delta for c in chunks) == "Hello"
        assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
        assert chunks[-1].usage == Usage(prompt_tokens=9, completion_tokens=1)


def test_stream_cut_short_is_an_error() -> None:
    parser = ADAPTER.stream_parser(request=ChatRequest(model="m", messages=[]), target=TARGET)
    parser.feed(b'data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hel"}}]}\n\n')
    with pytest.raises(ProviderError, match="ended before it finished"):
        parser.close()


def test_stream_error_event_raises() -> None:
    parser = ADAPTER.stream_parser(request=ChatRequest(model="m", messages=[]), target=TARGET)
    with pytest.raises(ProviderError, match="overloaded"):
        parser.feed(b'data: {"error": {"message": "overloaded"}}\n\n')


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (404, False), (429, True), (500, True), (503, True)],
)
def test_map_error_classifies_retryable(status: int, retryable: bool) -> None:
    body = json.dumps({"error": {"message": "nope", "type": "x", "code": "rate_limit_exceeded"}})
    error = map_error(status, body.encode(), {"retry-after": "2"})
    assert error.status == status
    assert error.retryable is retryable
    assert error.provider_code == "rate_limit_exceeded"
    assert error.retry_after == 2.0
    assert "nope" in error.message


def test_azure_puts_the_deployment_in_the_url_and_the_key_in_api_key() -> None:
    target = DeploymentTarget(
        deployment_id=1,
        provider="azure",
        upstream_model="gpt-4o-prod",
        api_base="https://acme.openai.azure.com",
        api_key="azure-key",
        api_version="2024-10-21",
    )
    call = AzureOpenAIAdapter().build_chat_call(
        target,
        ChatRequest(model="gpt-4o", messages=[ChatMessage(role="user", content="hi")]),
        stream=False,
    )
    assert call.url == (
        "https://acme.openai.azure.com/openai/deployments/gpt-4o-prod/chat/completions"
        "?api-version=2024-10-21"
    )
    assert call.headers["api-key"] == "azure-key"
    assert "Authorization" not in call.headers
    assert "model" not in json.loads(call.body)


def test_embeddings_call_and_response() -> None:
    request = EmbeddingRequest(model="e5", inputs=["가", "나"], dimensions=384)
    call = ADAPTER.build_embed_call(TARGET, request)
    assert call.url.endswith("/embeddings")
    assert json.loads(call.body)["input"] == ["가", "나"]
    body = json.dumps(
        {
            "data": [{"index": 1, "embedding": [0.0, 1.0]}, {"index": 0, "embedding": [1.0, 0.0]}],
            "usage": {"prompt_tokens": 2, "total_tokens": 2},
        }
    ).encode()
    response = ADAPTER.parse_embed_response(body, request=request, target=TARGET)
    assert response.vectors == [[1.0, 0.0], [0.0, 1.0]]
    assert response.usage.prompt_tokens == 2
