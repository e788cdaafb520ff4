"""``GenerateContentResponse`` (and Google's error JSON) → canonical types.

Upstream JSON is untrusted: every field is checked before use, and a body in an
unexpected shape is a ``ProviderError``, never a ``KeyError``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from providers import jsoncodec
from providers.adapters.gemini.tool_ids import tool_call_id
from providers.errors import ProviderError
from providers.types import ChatResponse, FinishReason, ToolCall, Usage

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_CODES = frozenset({"RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED"})
# Google's finishReason → OpenAI's. Anything unlisted (OTHER, LANGUAGE,
# MALFORMED_FUNCTION_CALL, ...) ends the answer as "stop": OpenAI has no better word.
FINISH_REASONS: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


@dataclass(frozen=True)
class CandidateParts:
    """What one candidate's ``content.parts`` said."""

    text: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


def parse_json(body: bytes) -> Any:
    try:
        return jsoncodec.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProviderError("The model returned a body that is not JSON") from None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def parse_usage(meta: Any) -> Usage | None:
    """``usageMetadata`` → Usage. Thinking tokens count as completion (they are billed
    as output) and are reported again as ``reasoning_tokens``."""
    if not isinstance(meta, Mapping):
        return None
    thoughts = _count(meta.get("thoughtsTokenCount"))
    return Usage(
        prompt_tokens=_count(meta.get("promptTokenCount"))
        + _count(meta.get("toolUsePromptTokenCount")),
        completion_tokens=_count(meta.get("candidatesTokenCount")) + thoughts,
        cached_tokens=_count(meta.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def finish_reason(raw: Any, *, called_tools: bool) -> FinishReason | None:
    if not raw or not isinstance(raw, str):
        return None
    reason = FINISH_REASONS.get(raw, "stop")
    # Gemini says STOP after a function call; OpenAI clients wait for "tool_calls".
    return "tool_calls" if reason == "stop" and called_tools else reason


def tool_call_from(call: Mapping[str, Any], signature: Any) -> ToolCall:
    args = call.get("args")
    return ToolCall(
        id=tool_call_id(signature if isinstance(signature, str) else None),
        name=str(call.get("name") or ""),
        arguments=json.dumps(
            args if isinstance(args, dict) else {}, ensure_ascii=False, separators=(",", ":")
        ),
    )


def read_parts(candidate: Any) -> CandidateParts:
    content = candidate.get("content") if isinstance(candidate, Mapping) else None
    parts = content.get("parts") if isinstance(content, Mapping) else None
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    for part in parts if isinstance(parts, list) else []:
        if not isinstance(part, Mapping):
            continue
        call = part.get("functionCall")
        if isinstance(call, Mapping):
            calls.append(tool_call_from(call, part.get("thoughtSignature")))
        elif isinstance(part.get("text"), str):
            (thoughts if part.get("thought") is True else texts).append(part["text"])
    return CandidateParts("".join(texts), "".join(thoughts), tuple(calls))


def first_candidate(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    candidates = payload.get("candidates")
    if isinstance(candidates, list) and candidates and isinstance(candidates[0], Mapping):
        return candidates[0]
    return None


def raise_if_prompt_blocked(payload: Mapping[str, Any]) -> None:
    """A prompt the safety filters refused has ``promptFeedback.blockReason`` and no
    candidate: that is the caller's input, so a 400 that says why."""
    feedback = payload.get("promptFeedback")
    if first_candidate(payload) is not None or not isinstance(feedback, Mapping):
        return
    reason = feedback.get("blockReason")
    if not reason:
        return
    detail = feedback.get("blockReasonMessage")
    raise ProviderError(
        f"The provider's safety filters blocked the prompt ({reason})"
        + (f": {str(detail)[:200]}" if detail else ""),
        status=400,
        provider_code="content_filter",
    )


def parse_response(payload: Any, *, model: str, deployment_id: int) -> ChatResponse:
    if not isinstance(payload, Mapping):
        raise ProviderError("The model returned a response in an unexpected shape")
    if "error" in payload:
        raise error_from_payload(payload)
    raise_if_prompt_blocked(payload)
    candidate = first_candidate(payload)
    if candidate is None:
        raise ProviderError("The model returned no candidate")
    parts = read_parts(candidate)
    return ChatResponse(
        id=str(payload.get("responseId") or f"chatcmpl-{secrets.token_hex(12)}"),
        model=model,
        content=parts.text,
        finish_reason=finish_reason(
            candidate.get("finishReason"), called_tools=bool(parts.tool_calls)
        )
        or "stop",
        usage=parse_usage(payload.get("usageMetadata")) or Usage(),
        tool_calls=parts.tool_calls,
        reasoning=parts.reasoning,
        deployment_id=deployment_id,
    )


def _retry_delay(details: Any) -> float | None:
    """``google.rpc.RetryInfo.retryDelay`` ("34s", "1.5s") from an error's details."""
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, Mapping) and str(detail.get("@type", "")).endswith("RetryInfo"):
            match = _DURATION.match(str(detail.get("retryDelay") or ""))
            if match:
                return float(match.group(1))
    return None


def _retry_after_header(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


def error_from_payload(
    payload: Any, *, status: int | None = None, headers: Mapping[str, str] | None = None
) -> ProviderError:
    """``{"error": {"code", "message", "status", "details"}}`` → ProviderError.
    ``status`` is the HTTP status; without one (an error inside a 200 body, such as
    a stream event) the error's own ``code`` is used. The non-SSE streaming
    endpoint wraps the error in a one-element list."""
    if isinstance(payload, list) and payload:
        payload = payload[0]
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if not isinstance(error, Mapping):
        error = {"message": str(error)} if error else {}
    code = error.get("code")
    if status is None:
        status = code if isinstance(code, int) and code >= 400 else 502
    message = str(error.get("message") or "")
    provider_code = str(error.get("status") or code or "")
    retry_after = _retry_after_header(headers or {}) or _retry_delay(error.get("details"))
    return ProviderError(
        f"Upstream answered {status}" + (f": {message[:300]}" if message else ""),
        status=status,
        retryable=status in RETRYABLE_STATUSES or provider_code in RETRYABLE_CODES,
        provider_code=provider_code,
        retry_after=retry_after,
    )


def map_error(status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
    try:
        payload: Any = jsoncodec.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    return error_from_payload(payload, status=status, headers=headers)


def _vectors(rows: Any, *, key: str | None) -> list[list[float]]:
    vectors = []
    for row in rows:
        values = row[key]["values"] if key else row["values"]
        vectors.append([float(v) for v in values])
    return vectors


def parse_embeddings(payload: Any, *, expected: int) -> tuple[list[list[float]], Usage]:
    """``batchEmbedContents`` (``embeddings[].values``) or Vertex ``predict``
    (``predictions[].embeddings.values`` with ``statistics.token_count``)."""
    try:
        if "predictions" in payload:
            rows = payload["predictions"]
            vectors = _vectors(rows, key="embeddings")
            tokens = sum(
                _count((row["embeddings"].get("statistics") or {}).get("token_count"))
                for row in rows
            )
        else:
            vectors = _vectors(payload["embeddings"], key=None)
            tokens = 0
    except (KeyError, TypeError, ValueError, AttributeError):
        raise ProviderError("The embedding response has an unexpected shape") from None
    if len(vectors) != expected:
        raise ProviderError("The embedding response has the wrong number of vectors")
    return vectors, Usage(prompt_tokens=tokens)
