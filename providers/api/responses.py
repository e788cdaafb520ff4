"""Canonical results → OpenAI JSON. The one translation point of the API (R11)."""

from __future__ import annotations

import array
import base64
import math
import time
from typing import TYPE_CHECKING, Any

from providers import jsoncodec
from providers.errors import GatewayError, InvalidRequest, ProviderError

if TYPE_CHECKING:
    from providers.types import ChatChunk, ChatResponse, EmbeddingResponse, ModelInfo

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


dumps = jsoncodec.dumps


def error_body(error: GatewayError) -> tuple[int, bytes]:
    """The status to answer and OpenAI's error object. Upstream 4xx other than the
    caller's own (auth, quota at the provider) become 502: the caller's request was fine."""
    status = error.status
    if isinstance(error, ProviderError):
        if status == 529:
            status = 503  # a provider's "overloaded"
        elif status not in (400, 408, 413, 422, 429, 502, 503, 504):
            status = 502  # the provider refused us (auth, missing model) or broke: not the caller
    error_type = error.error_type or ERROR_TYPES.get(status, "api_error")
    code = (
        error.code if not isinstance(error, ProviderError) else (error.provider_code or error.code)
    )
    param = error.param if isinstance(error, InvalidRequest) else None
    return status, dumps(
        {"error": {"message": error.message, "type": error_type, "param": param, "code": code}}
    )


def error_headers(error: GatewayError) -> list[tuple[bytes, bytes]]:
    """Headers an error response carries besides its content type (``Retry-After``)."""
    if error.retry_after is None or error.status not in (429, 503):
        return []
    return [(b"retry-after", str(max(1, math.ceil(error.retry_after))).encode())]


def tool_calls_json(response: ChatResponse) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in response.tool_calls
    ]


def chat_completion_json(response: ChatResponse, *, completion_id: str) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": response.content or None}
    if response.tool_calls:
        message["tool_calls"] = tool_calls_json(response)
    if response.reasoning:
        message["reasoning_content"] = response.reasoning
    return dumps(
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": response.model,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": response.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": response.usage.to_openai(),
        }
    )


class ChunkEncoder:
    """SSE frames for one streamed completion, in OpenAI's chunk format."""

    def __init__(self, *, completion_id: str, model: str) -> None:
        self.prefix = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        self.sent_role = False

    def frame(self, chunk: ChatChunk) -> bytes:
        delta: dict[str, Any] = {}
        if not self.sent_role:
            delta["role"] = "assistant"
            self.sent_role = True
        if chunk.delta:
            delta["content"] = chunk.delta
        if chunk.reasoning:
            delta["reasoning_content"] = chunk.reasoning
        if chunk.tool_calls:
            delta["tool_calls"] = [
                {
                    "index": t.index,
                    **({"id": t.id, "type": "function"} if t.id else {}),
                    "function": {
                        k: v
                        for k, v in (("name", t.name), ("arguments", t.arguments))
                        if v is not None
                    },
                }
                for t in chunk.tool_calls
            ]
        frames = b""
        if delta or chunk.finish_reason:
            body = {
                **self.prefix,
                "choices": [{"index": 0, "delta": delta, "finish_reason": chunk.finish_reason}],
            }
            frames += b"data: " + dumps(body) + b"\n\n"
        if chunk.usage is not None:
            body = {**self.prefix, "choices": [], "usage": chunk.usage.to_openai()}
            frames += b"data: " + dumps(body) + b"\n\n"
        return frames

    @staticmethod
    def error(error: GatewayError) -> bytes:
        _status, body = error_body(error)
        return b"data: " + body + b"\n\n"

    DONE = b"data: [DONE]\n\n"


def models_json(infos: list[ModelInfo]) -> bytes:
    return dumps(
        {
            "object": "list",
            "data": [
                {"id": m.name, "object": "model", "created": 0, "owned_by": "organization"}
                for m in infos
            ],
        }
    )


def embeddings_json(response: EmbeddingResponse, *, encoding_format: str = "float") -> bytes:
    def encode(vector: list[float]) -> list[float] | str:
        if encoding_format == "base64":  # little-endian float32, as OpenAI sends it
            return base64.b64encode(array.array("f", vector).tobytes()).decode()
        return vector

    return dumps(
        {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": encode(v)}
                for i, v in enumerate(response.vectors)
            ],
            "model": response.model,
            "usage": {
                "prompt_tokens": response.usage.prompt_tokens,
                "total_tokens": response.usage.prompt_tokens,
            },
        }
    )
