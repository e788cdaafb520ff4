"""Pure transforms of the OpenAI-compatible adapter, on recorded wire-format samples."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from providers.adapters.openai_compat import (
    build_request,
    map_error,
    parse_response,
    parse_stream_line,
)
from providers.errors import ProviderError
from providers.types import ChatMessage, ChatRequest, DeploymentTarget, Usage

SAMPLES = Path(__file__).parent / "samples"
TARGET = DeploymentTarget(
    deployment_id=7,
    provider="hosted_vllm",
    upstream_model="Qwen/Qwen3-8B",
    api_base="http://vllm.internal:8000/v1/",
    api_key="sk-secret",
)


def test_build_request_uses_upstream_model_and_bearer_key() -> None:
    request = ChatRequest(
        model="qwen", messages=[ChatMessage(role="user", content="안녕")], max_tokens=5, seed=1
    )
    call = build_request(TARGET, request, stream=True)
    assert call.url == "http://vllm.internal:8000/v1/chat/completions"
    assert call.headers["Authorization"] == "Bearer sk-secret"
    assert call.body == {
        "model": "Qwen/Qwen3-8B",
        "messages": [{"role": "user", "content": "안녕"}],
        "max_tokens": 5,
        "seed": 1,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_parse_response_sample() -> None:
    payload = json.loads((SAMPLES / "openai_chat_response.json").read_text())
    response = parse_response(payload, model="gpt-4.1", deployment_id=7)
    assert response.content == "Hello! How can I assist you today?"
    assert response.finish_reason == "stop"
    assert response.usage == Usage(prompt_tokens=19, completion_tokens=10)
    assert response.model == "gpt-4.1"


def test_parse_stream_sample_gives_text_finish_and_usage() -> None:
    lines = (SAMPLES / "openai_chat_stream.txt").read_text().splitlines()
    chunks = [c for c in (parse_stream_line(line, model="m") for line in lines) if c is not None]
    assert "".join(c.delta for c in chunks) == "Hello"
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert chunks[-1].usage == Usage(prompt_tokens=9, completion_tokens=1)


def test_stream_error_event_raises() -> None:
    with pytest.raises(ProviderError, match="overloaded"):
        parse_stream_line('data: {"error": {"message": "overloaded"}}', model="m")


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (404, False), (429, True), (500, True), (503, True)],
)
def test_map_error_classifies_retryable(status: int, retryable: bool) -> None:
    body = json.dumps({"error": {"message": "nope", "type": "x", "code": "rate_limit_exceeded"}})
    error = map_error(status, body, httpx.Headers({"retry-after": "2"}))
    assert error.status == status
    assert error.retryable is retryable
    assert error.provider_code == "rate_limit_exceeded"
    assert error.retry_after == 2.0
    assert "nope" in error.message
