"""Pure parsing of the gemini / vertex_ai adapters: responses, the SSE stream in any
split, finish reasons, usage, errors and embeddings, on wire samples shaped like
Google's documented examples. No network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from providers.adapters.gemini import GeminiAdapter
from providers.adapters.gemini.response import map_error
from providers.adapters.gemini.stream import GeminiStreamParser
from providers.adapters.gemini.tool_ids import signature_from
from providers.errors import ProviderError
from providers.types import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    DeploymentTarget,
    EmbeddingRequest,
    Usage,
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
QUESTION = ChatRequest(model="gem", messages=[ChatMessage(role="user", content="hi")])


def stream_chunks(body: bytes, size: int) -> list[ChatChunk]:
    parser = GeminiStreamParser(model="gem")
    chunks: list[ChatChunk] = []
    for start in range(0, len(body), size):
        chunks.extend(parser.feed(body[start : start + size]))
    chunks.extend(parser.close())
    return chunks


# --- responses -----------------------------------------------------------------------


def test_parse_response_sample_with_thoughts_and_usage() -> None:
    # given
    body = (SAMPLES / "gemini_chat_response.json").read_bytes()
    # when
    response = ADAPTER.parse_chat_response(body, request=QUESTION, target=TARGET)
    # then
    assert response.id == "mKVFaJz0Ft6Ez7IP-J-3yQk"
    assert response.model == "gem"
    assert response.content.startswith("Occam's Razor: the simplest")
    assert response.reasoning.startswith("**Weighing the options**")
    assert response.finish_reason == "stop"
    assert response.usage == Usage(
        prompt_tokens=14, completion_tokens=18 + 253, cached_tokens=8, reasoning_tokens=253
    )
    assert response.deployment_id == 3


def test_parse_function_calls_with_generated_ids_and_json_arguments() -> None:
    body = (SAMPLES / "gemini_function_call_response.json").read_bytes()
    response = ADAPTER.parse_chat_response(body, request=QUESTION, target=TARGET)
    assert response.finish_reason == "tool_calls"
    assert [c.name for c in response.tool_calls] == ["get_current_weather"] * 2
    assert json.loads(response.tool_calls[1].arguments) == {"location": "서울", "unit": "celsius"}
    assert len({c.id for c in response.tool_calls}) == 2
    assert all(c.id.startswith("call_") for c in response.tool_calls)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("OTHER", "stop"),
    ],
)
def test_finish_reasons_map_to_openai(raw: str, expected: str) -> None:
    payload = {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "x"}]}, "finishReason": raw}
        ]
    }
    response = ADAPTER.parse_chat_response(
        json.dumps(payload).encode(), request=QUESTION, target=TARGET
    )
    assert response.finish_reason == expected


def test_a_candidate_blocked_by_safety_is_content_filter() -> None:
    body = (SAMPLES / "gemini_safety_response.json").read_bytes()
    response = ADAPTER.parse_chat_response(body, request=QUESTION, target=TARGET)
    assert response.content == ""
    assert response.finish_reason == "content_filter"
    assert response.usage == Usage(prompt_tokens=9)


def test_a_blocked_prompt_is_a_clear_client_error() -> None:
    body = (SAMPLES / "gemini_prompt_blocked.json").read_bytes()
    with pytest.raises(ProviderError, match="PROHIBITED_CONTENT") as caught:
        ADAPTER.parse_chat_response(body, request=QUESTION, target=TARGET)
    assert caught.value.status == 400
    assert caught.value.provider_code == "content_filter"
    assert not caught.value.retryable


@pytest.mark.parametrize("size", [1, 2, 7, 64, 100_000])
def test_stream_sample_in_any_split(size: int) -> None:
    # given Google's CRLF-framed SSE, split anywhere (inside UTF-8 sequences too)
    body = (SAMPLES / "gemini_chat_stream.txt").read_bytes()
    # when
    chunks = stream_chunks(body, size)
    # then
    assert "".join(c.delta for c in chunks) == "딸기(strawberry)에는 r이 세 개 있습니다."
    assert "".join(c.reasoning for c in chunks) == "**Counting** the letters first."
    assert [c.finish_reason for c in chunks] == [None, None, "stop"]
    assert [c.usage for c in chunks[:-1]] == [None, None]
    assert chunks[-1].usage == Usage(
        prompt_tokens=9, completion_tokens=11 + 31, cached_tokens=4, reasoning_tokens=31
    )
    assert {c.id for c in chunks} == {"S9FFaIv4OZ6Fz7IPwbGVqAU"}


@pytest.mark.parametrize("size", [1, 13, 100_000])
def test_stream_function_calls_arrive_whole(size: int) -> None:
    body = (SAMPLES / "gemini_function_call_stream.txt").read_bytes()
    chunks = stream_chunks(body, size)
    calls = [call for chunk in chunks for call in chunk.tool_calls]
    assert chunks[0].delta == "Let me look that up."
    assert [(c.index, c.name) for c in calls] == [(0, "get_current_weather"), (1, "get_time")]
    assert json.loads(calls[1].arguments) == {"zone": "America/New_York"}
    assert signature_from(calls[0].id or "") is not None
    assert chunks[-1].finish_reason == "tool_calls"
    assert chunks[-1].usage == Usage(prompt_tokens=40, completion_tokens=22)


def test_a_stream_cut_before_its_finish_reason_is_a_retryable_error() -> None:
    body = (SAMPLES / "gemini_chat_stream.txt").read_bytes()
    cut = body[: body.rindex(b"data:")]
    with pytest.raises(ProviderError, match="ended before it finished") as caught:
        stream_chunks(cut, 50)
    assert caught.value.retryable


def test_an_error_event_in_the_stream_is_raised() -> None:
    event = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    parser = GeminiStreamParser(model="gem")
    with pytest.raises(ProviderError, match="overloaded") as caught:
        parser.feed(f"data: {json.dumps(event)}\r\n\r\n".encode())
    assert caught.value.status == 503
    assert caught.value.retryable


# --- errors ---------------------------------------------------------------------------


def test_quota_error_is_retryable_after_the_retry_delay() -> None:
    body = (SAMPLES / "gemini_error_429.json").read_bytes()
    error = map_error(429, body, {})
    assert error.retryable
    assert error.status == 429
    assert error.provider_code == "RESOURCE_EXHAUSTED"
    assert error.retry_after == 34.0
    assert "exceeded your current quota" in error.message


def test_invalid_argument_is_not_retryable() -> None:
    error = map_error(400, (SAMPLES / "gemini_error_400.json").read_bytes(), {})
    assert not error.retryable
    assert error.provider_code == "INVALID_ARGUMENT"
    assert "contents is not specified" in error.message


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (500, True), (403, False)])
def test_error_statuses(status: int, retryable: bool) -> None:
    error = map_error(status, b"<html>Service Unavailable</html>", {"Retry-After": "2"})
    assert error.retryable is retryable
    assert error.message == f"Upstream answered {status}"
    assert error.retry_after == 2.0


# --- embeddings -----------------------------------------------------------------------


def test_gemini_embeddings_use_batch_embed_contents() -> None:
    # given
    target = DeploymentTarget(
        deployment_id=3,
        provider="gemini",
        upstream_model="gemini-embedding-001",
        api_base="",
        api_key="gk-secret",
    )
    request = EmbeddingRequest(model="emb", inputs=["하나", "둘"], dimensions=768)
    # when
    call = ADAPTER.build_embed_call(target, request)
    response = ADAPTER.parse_embed_response(
        (SAMPLES / "gemini_batch_embed_response.json").read_bytes(), request=request, target=target
    )
    # then
    assert call.url.endswith("/v1beta/models/gemini-embedding-001:batchEmbedContents")
    assert json.loads(call.body)["requests"][1] == {
        "model": "models/gemini-embedding-001",
        "content": {"parts": [{"text": "둘"}]},
        "outputDimensionality": 768,
    }
    assert response.vectors[0][:2] == [0.013168523, -0.008711934]
    assert len(response.vectors) == 2


def test_embedding_count_mismatch_is_an_error() -> None:
    request = EmbeddingRequest(model="emb", inputs=["only one"])
    with pytest.raises(ProviderError, match="wrong number"):
        ADAPTER.parse_embed_response(
            (SAMPLES / "gemini_batch_embed_response.json").read_bytes(),
            request=request,
            target=TARGET,
        )
