"""Pure transforms of the Anthropic adapter: answers, event streams and errors.

Wire samples in ``samples/anthropic_*`` are transcribed from the examples in Anthropic's
public Messages API documentation (messages, streaming, extended thinking, errors).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from providers.adapters.anthropic import AnthropicAdapter
from providers.errors import ConfigError, ProviderError
from providers.types import (
    ChatChunk,
    ChatRequest,
    DeploymentTarget,
    EmbeddingRequest,
    Usage,
)

SAMPLES = Path(__file__).parent / "samples"
TARGET = DeploymentTarget(
    deployment_id=3, provider="anthropic", upstream_model="claude-sonnet-4-20250514", api_base=""
)
ADAPTER = AnthropicAdapter()
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}}
JSON_SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "city", "schema": SCHEMA}}
SPLITS = (1, 7, 64, 100_000)


def event(kind: str, **data: Any) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()


def parse_stream(raw: bytes, size: int, request: ChatRequest | None = None) -> list[ChatChunk]:
    """Feed ``raw`` in pieces of ``size`` bytes, then close."""
    request = request or ChatRequest(model="claude", messages=[])
    parser = ADAPTER.stream_parser(request=request, target=TARGET)
    chunks = [c for i in range(0, len(raw), size) for c in parser.feed(raw[i : i + size])]
    return chunks + parser.close()


def arguments_by_index(chunks: list[ChatChunk]) -> dict[int, str]:
    joined: dict[int, str] = {}
    for chunk in chunks:
        for call in chunk.tool_calls:
            joined[call.index] = joined.get(call.index, "") + call.arguments
    return joined


def test_parse_response_sample() -> None:
    body = (SAMPLES / "anthropic_messages_response.json").read_bytes()
    request = ChatRequest(model="claude", messages=[])
    response = ADAPTER.parse_chat_response(body, request=request, target=TARGET)
    assert response.id == "msg_013Zva2CMHLNnXjNJJKqJ2EF"
    assert response.model == "claude"
    assert response.content == "Hi! My name is Claude."
    assert response.finish_reason == "stop"
    assert response.usage == Usage(prompt_tokens=2095, completion_tokens=503)
    assert response.deployment_id == 3


def test_parse_tool_use_sample_with_cache_usage() -> None:
    body = (SAMPLES / "anthropic_messages_tool_use_response.json").read_bytes()
    response = ADAPTER.parse_chat_response(
        body, request=ChatRequest(model="claude", messages=[]), target=TARGET
    )
    assert response.content == "I'll check the current weather in San Francisco for you."
    assert response.finish_reason == "tool_calls"
    [call] = response.tool_calls
    assert (call.id, call.name) == ("toolu_01A09q90qw90lq917835lq9", "get_weather")
    assert json.loads(call.arguments) == {"location": "San Francisco, CA", "unit": "celsius"}
    # prompt = input + cache reads + cache writes; cached = reads
    assert response.usage == Usage(prompt_tokens=21 + 188086, completion_tokens=393)


def test_parse_json_answer_and_thinking() -> None:
    # given a forced-tool JSON answer after a thinking block, cache reads in the usage
    payload = {
        "id": "msg_1",
        "content": [
            {"type": "thinking", "thinking": "They mean Seoul.", "signature": "sig"},
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "json_response",
                "input": {"city": "서울"},
            },
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 5, "cache_read_input_tokens": 100, "output_tokens": 9},
    }
    request = ChatRequest(model="c", messages=[], response_format=JSON_SCHEMA_FORMAT)
    # when
    response = ADAPTER.parse_chat_response(
        json.dumps(payload).encode(), request=request, target=TARGET
    )
    # then the tool input is the answer text and the turn simply stopped
    assert json.loads(response.content) == {"city": "서울"}
    assert response.reasoning == "They mean Seoul."
    assert response.tool_calls == ()
    assert response.finish_reason == "stop"
    assert response.usage == Usage(prompt_tokens=105, completion_tokens=9, cached_tokens=100)


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [
        (400, "invalid_request_error", False),
        (401, "authentication_error", False),
        (403, "permission_error", False),
        (404, "not_found_error", False),
        (413, "request_too_large", False),
        (429, "rate_limit_error", True),
        (500, "api_error", True),
        (529, "overloaded_error", True),
    ],
)
def test_map_error_classifies_documented_errors(
    status: int, error_type: str, retryable: bool
) -> None:
    body = {"type": "error", "error": {"type": error_type, "message": "nope"}}
    error = ADAPTER.map_error(status, json.dumps(body).encode(), {"retry-after": "3"})
    assert (error.status, error.retryable, error.provider_code) == (status, retryable, error_type)
    assert error.retry_after == 3.0
    assert "nope" in error.message


def test_map_error_overloaded_sample_and_a_non_json_body() -> None:
    overloaded = (SAMPLES / "anthropic_error_overloaded.json").read_bytes()
    error = ADAPTER.map_error(529, overloaded, {})
    assert error.retryable and error.provider_code == "overloaded_error"
    assert error.message == "Upstream answered 529: Overloaded"
    assert error.retry_after is None
    gateway_page = ADAPTER.map_error(502, b"<html>Bad Gateway</html>", {"Retry-After": "soon"})
    assert (gateway_page.message, gateway_page.retryable) == ("Upstream answered 502", True)


def test_embeddings_are_not_offered() -> None:
    with pytest.raises(ConfigError, match="no embeddings"):
        ADAPTER.build_embed_call(TARGET, EmbeddingRequest(model="claude", inputs=["x"]))


@pytest.mark.parametrize("size", SPLITS)
def test_text_stream_sample_in_any_split(size: int) -> None:
    # given the documented basic stream, fed in pieces as small as one byte
    raw = (SAMPLES / "anthropic_stream_text.txt").read_bytes()
    # when
    chunks = parse_stream(raw, size)
    # then text arrives as deltas; finish and usage come once, on the last chunk
    assert "".join(c.delta for c in chunks) == "Hello!"
    assert {c.id for c in chunks} == {"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"}
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    assert [c.usage for c in chunks if c.usage] == [Usage(prompt_tokens=25, completion_tokens=15)]
    assert chunks[-1].usage is not None


@pytest.mark.parametrize("size", SPLITS)
def test_tool_use_stream_sample_in_any_split(size: int) -> None:
    # given the documented stream: a text block, then a tool_use block with input_json_delta
    raw = (SAMPLES / "anthropic_stream_tool_use.txt").read_bytes()
    # when
    chunks = parse_stream(raw, size)
    # then the tool call is index 0 (first tool block), though it is content block 1
    assert (
        "".join(c.delta for c in chunks) == "Okay, let's check the weather for San Francisco, CA:"
    )
    starts = [call for c in chunks for call in c.tool_calls if call.id]
    assert [(s.index, s.id, s.name) for s in starts] == [
        (0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather")
    ]
    assert json.loads(arguments_by_index(chunks)[0]) == {
        "location": "San Francisco, CA",
        "unit": "fahrenheit",
    }
    assert chunks[-1].finish_reason == "tool_calls"
    assert chunks[-1].usage == Usage(prompt_tokens=472, completion_tokens=89)


@pytest.mark.parametrize("size", SPLITS)
def test_thinking_stream_sample_in_any_split(size: int) -> None:
    raw = (SAMPLES / "anthropic_stream_thinking.txt").read_bytes()
    chunks = parse_stream(raw, size)
    assert "".join(c.reasoning for c in chunks) == (
        "Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3"
    )
    assert "".join(c.delta for c in chunks) == "27 * 453 = 12,231"
    # the sample reports no usage: the last chunk still carries a (zero) Usage
    assert (chunks[-1].finish_reason, chunks[-1].usage) == ("stop", Usage())


def test_tool_blocks_are_numbered_among_tool_blocks_only() -> None:
    # given text at block 0 and two tool_use blocks at 1 and 2, cache usage at the start
    raw = b"".join(
        [
            event(
                "message_start",
                message={
                    "id": "msg_x",
                    "usage": {
                        "input_tokens": 3,
                        "cache_read_input_tokens": 40,
                        "cache_creation_input_tokens": 2,
                    },
                },
            ),
            event("content_block_start", index=0, content_block={"type": "text", "text": "Hi"}),
            event("content_block_stop", index=0),
            event(
                "content_block_start",
                index=1,
                content_block={"type": "tool_use", "id": "t1", "name": "a", "input": {}},
            ),
            event(
                "content_block_start",
                index=2,
                content_block={"type": "tool_use", "id": "t2", "name": "b", "input": {}},
            ),
            event(
                "content_block_delta",
                index=2,
                delta={"type": "input_json_delta", "partial_json": "{}"},
            ),
            event(
                "content_block_delta",
                index=1,
                delta={"type": "input_json_delta", "partial_json": '{"x":1}'},
            ),
            event("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 7}),
            event("message_stop"),
        ]
    )
    # when
    chunks = parse_stream(raw, 5)
    # then
    assert chunks[0].delta == "Hi"
    assert [(c.index, c.id) for ch in chunks for c in ch.tool_calls if c.id] == [
        (0, "t1"),
        (1, "t2"),
    ]
    assert arguments_by_index(chunks) == {0: '{"x":1}', 1: "{}"}
    assert chunks[-1].usage == Usage(prompt_tokens=45, completion_tokens=7, cached_tokens=40)


def test_streamed_json_answer_arrives_as_text() -> None:
    raw = b"".join(
        [
            event("message_start", message={"id": "msg_j", "usage": {"input_tokens": 4}}),
            event(
                "content_block_start",
                index=0,
                content_block={"type": "tool_use", "id": "t", "name": "json_response", "input": {}},
            ),
            event(
                "content_block_delta",
                index=0,
                delta={"type": "input_json_delta", "partial_json": '{"city"'},
            ),
            event(
                "content_block_delta",
                index=0,
                delta={"type": "input_json_delta", "partial_json": ': "서울"}'},
            ),
            event("message_delta", delta={"stop_reason": "tool_use"}, usage={"output_tokens": 6}),
            event("message_stop"),
        ]
    )
    request = ChatRequest(model="c", messages=[], response_format=JSON_SCHEMA_FORMAT)
    chunks = parse_stream(raw, 3, request)
    assert json.loads("".join(c.delta for c in chunks)) == {"city": "서울"}
    assert not any(c.tool_calls for c in chunks)
    assert chunks[-1].finish_reason == "stop"


def test_stream_cut_short_is_an_error() -> None:
    raw = (SAMPLES / "anthropic_stream_text.txt").read_bytes()
    cut = raw[: raw.index(b"event: message_stop")]
    with pytest.raises(ProviderError, match="ended before it finished"):
        parse_stream(cut, 64)


def test_stream_error_event_raises_a_retryable_overload() -> None:
    # given the documented mid-stream error event after some text
    raw = (SAMPLES / "anthropic_stream_error.txt").read_bytes()
    parser = ADAPTER.stream_parser(request=ChatRequest(model="c", messages=[]), target=TARGET)
    before_error = raw[: raw.index(b"event: error")]
    # when / then
    assert [c.delta for c in parser.feed(before_error)] == ["Hello"]
    with pytest.raises(ProviderError, match="Overloaded") as caught:
        parser.feed(raw[len(before_error) :])
    assert (caught.value.status, caught.value.retryable) == (529, True)
    assert caught.value.provider_code == "overloaded_error"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"event: message_start\ndata: {not json\n\n", "malformed"),
        (b"data: [1, 2]\n\n", "malformed"),
        (event("message_start", message="a string"), "unexpected shape"),
        (event("content_block_delta", index="first", delta={}), "unexpected shape"),
    ],
)
def test_malformed_stream_events_raise(raw: bytes, problem: str) -> None:
    parser = ADAPTER.stream_parser(request=ChatRequest(model="c", messages=[]), target=TARGET)
    with pytest.raises(ProviderError, match=problem):
        parser.feed(raw)


@pytest.mark.parametrize("body", [b"[]", b'{"id": "x"}', b'{"content": "text"}', b"not json"])
def test_response_of_an_unexpected_shape_raises(body: bytes) -> None:
    request = ChatRequest(model="c", messages=[])
    with pytest.raises(ProviderError, match=r"unexpected shape|not JSON"):
        ADAPTER.parse_chat_response(body, request=request, target=TARGET)
