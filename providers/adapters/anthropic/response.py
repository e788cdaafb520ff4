"""Anthropic answers → ``ChatResponse``, ``Usage`` and ``ProviderError``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from providers import jsoncodec
from providers.adapters.anthropic.request import JSON_TOOL_NAME
from providers.errors import ProviderError
from providers.types import ChatResponse, FinishReason, ToolCall, Usage

FINISH_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
# Documented error types and their HTTP statuses (also used for ``error`` stream events,
# which carry a type but no status).
ERROR_STATUSES = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def parse_json(body: bytes) -> Any:
    try:
        return jsoncodec.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProviderError("The model returned a body that is not JSON") from None


def parse_usage(raw: Mapping[str, Any] | None) -> Usage | None:
    """Anthropic counts cache reads and writes apart from ``input_tokens``; our
    ``prompt_tokens`` is all three, of which ``cached_tokens`` are the reads."""
    if not raw or not isinstance(raw, Mapping):
        return None

    def count(key: str) -> int:
        return int(raw.get(key) or 0)

    cache_read = count("cache_read_input_tokens")
    return Usage(
        prompt_tokens=count("input_tokens") + cache_read + count("cache_creation_input_tokens"),
        completion_tokens=count("output_tokens"),
        cached_tokens=cache_read,
    )


def finish_reason(stop_reason: Any, *, tool_called: bool) -> FinishReason | None:
    """``tool_use`` that only carried the JSON answer is a normal stop for the caller."""
    reason = FINISH_REASONS.get(str(stop_reason)) if stop_reason else None
    if reason == "tool_calls" and not tool_called:
        return "stop"
    return reason


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def parse_response(
    payload: Any, *, model: str, deployment_id: int, json_mode: bool
) -> ChatResponse:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("content"), list):
        raise ProviderError("The model returned a response in an unexpected shape")
    blocks: list[Any] = payload["content"]
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[ToolCall] = []
    for block in blocks:
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            texts.append(str(block.get("text") or ""))
        elif kind == "thinking":
            reasoning.append(str(block.get("thinking") or ""))
        elif kind == "tool_use" and json_mode and block.get("name") == JSON_TOOL_NAME:
            texts.append(json_text(block.get("input") or {}))
        elif kind == "tool_use":
            calls.append(
                ToolCall(
                    id=str(block.get("id") or ""),
                    name=str(block.get("name") or ""),
                    arguments=json_text(block.get("input") or {}),
                )
            )
        # redacted_thinking and server-side tool blocks carry nothing for the caller.
    return ChatResponse(
        id=str(payload.get("id") or ""),
        model=model,
        content="".join(texts),
        finish_reason=finish_reason(payload.get("stop_reason"), tool_called=bool(calls)),
        usage=parse_usage(payload.get("usage")) or Usage(),
        tool_calls=tuple(calls),
        reasoning="".join(reasoning),
        deployment_id=deployment_id,
    )


def error_details(body: bytes) -> tuple[str, str]:
    """(``error.type``, ``error.message``) of ``{"type": "error", "error": {...}}``."""
    try:
        error = jsoncodec.loads(body).get("error")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return "", ""
    if isinstance(error, Mapping):
        return str(error.get("type") or ""), str(error.get("message") or "")
    return "", str(error or "")


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("retry-after") or headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def provider_error(
    status: int, error_type: str, message: str, *, retry_after: float | None = None
) -> ProviderError:
    text = f"Upstream answered {status}" + (f": {message[:300]}" if message else "")
    return ProviderError(
        text,
        status=status,
        retryable=status in RETRYABLE_STATUSES,
        provider_code=error_type,
        retry_after=retry_after,
    )


def map_error(status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
    error_type, message = error_details(body)
    return provider_error(status, error_type, message, retry_after=retry_after_seconds(headers))


def stream_error(error: Any) -> ProviderError:
    """An ``error`` event after the 200: the status comes from the documented type."""
    error_type, message = "", str(error or "")
    if isinstance(error, Mapping):
        error_type, message = str(error.get("type") or ""), str(error.get("message") or "")
    status = ERROR_STATUSES.get(error_type, 502)
    return ProviderError(
        f"The model stream failed: {message or error_type or 'unknown error'}"[:300],
        status=status,
        retryable=status in RETRYABLE_STATUSES,
        provider_code=error_type,
    )
