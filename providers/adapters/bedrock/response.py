"""Bedrock answers → canonical types (pure): Converse JSON, ConverseStream events, errors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from providers import jsoncodec
from providers.adapters.bedrock.eventstream import EventMessage, EventStreamDecoder
from providers.adapters.openai_compat import retry_after_seconds
from providers.errors import ProviderError
from providers.types import (
    ChatChunk,
    ChatResponse,
    FinishReason,
    ToolCall,
    ToolCallDelta,
    Usage,
)

STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
# AWS error type (lower-cased) → (HTTP status, worth retrying). The status is used
# for stream exception events, which arrive inside a 200 response.
ERROR_TYPES: dict[str, tuple[int, bool]] = {
    "throttlingexception": (429, True),
    "servicequotaexceededexception": (400, False),
    "serviceunavailableexception": (503, True),
    "internalserverexception": (500, True),
    "modelnotreadyexception": (429, True),
    "modeltimeoutexception": (408, True),
    "modelstreamerrorexception": (424, True),
    "modelerrorexception": (424, False),
    "validationexception": (400, False),
    "accessdeniedexception": (403, False),
    "resourcenotfoundexception": (404, False),
    "unrecognizedclientexception": (403, False),
    "invalidsignatureexception": (403, False),
    "expiredtokenexception": (403, False),
}
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def parse_json(body: bytes) -> Any:
    try:
        return jsoncodec.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProviderError("The model returned a body that is not JSON") from None


def parse_usage(raw: Mapping[str, Any] | None) -> Usage | None:
    """Bedrock counts cache reads and writes apart from ``inputTokens``; canonical
    ``prompt_tokens`` includes them, with the reads as ``cached_tokens``."""
    if not raw:
        return None
    cache_read = int(raw.get("cacheReadInputTokens") or 0)
    cache_write = int(raw.get("cacheWriteInputTokens") or 0)
    return Usage(
        prompt_tokens=int(raw.get("inputTokens") or 0) + cache_read + cache_write,
        completion_tokens=int(raw.get("outputTokens") or 0),
        cached_tokens=cache_read,
    )


def finish_reason(raw: Any) -> FinishReason | None:
    if not raw:
        return None
    # Unknown reasons (malformed_model_output, ...) still end the answer.
    return STOP_REASONS.get(str(raw), "stop")


def parse_converse(
    payload: Any, *, model: str, deployment_id: int, response_id: str
) -> ChatResponse:
    try:
        blocks = payload["output"]["message"]["content"]
        if not isinstance(blocks, list):
            raise TypeError
    except (KeyError, TypeError):
        raise ProviderError("The model returned a response in an unexpected shape") from None
    text: list[str] = []
    reasoning: list[str] = []
    calls: list[ToolCall] = []
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        if "text" in block:
            text.append(str(block["text"]))
        elif "toolUse" in block:
            use = block["toolUse"]
            calls.append(
                ToolCall(
                    id=str(use.get("toolUseId") or ""),
                    name=str(use.get("name") or ""),
                    arguments=json.dumps(use.get("input", {}), ensure_ascii=False),
                )
            )
        elif "reasoningContent" in block:
            reasoning_text = (block["reasoningContent"].get("reasoningText") or {}).get("text")
            if reasoning_text:
                reasoning.append(str(reasoning_text))
    return ChatResponse(
        id=response_id,
        model=model,
        content="".join(text),
        finish_reason=finish_reason(payload.get("stopReason")),
        usage=parse_usage(payload.get("usage")) or Usage(),
        tool_calls=tuple(calls),
        reasoning="".join(reasoning),
        deployment_id=deployment_id,
    )


def json_or_none(body: bytes) -> Any:
    try:
        return jsoncodec.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def error_message(payload: Any) -> str:
    """AWS JSON errors say ``message`` (some services ``Message``)."""
    if isinstance(payload, Mapping):
        return str(payload.get("message") or payload.get("Message") or "")
    return ""


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), "")
    return value


def error_type_name(headers: Mapping[str, str], payload: Any) -> str:
    """``ThrottlingException`` from ``x-amzn-ErrorType: ThrottlingException:http://...``
    or from a body ``__type`` such as ``com.amazon.coral.service#ThrottlingException``."""
    raw = _header(headers, "x-amzn-ErrorType")
    if not raw and isinstance(payload, Mapping):
        raw = str(payload.get("__type") or "").rpartition("#")[2]
    return raw.partition(":")[0].strip()


def map_error(status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
    payload = json_or_none(body)
    message = error_message(payload)
    code = error_type_name(headers, payload)
    known = ERROR_TYPES.get(code.lower())
    retryable = known[1] if known is not None else status in RETRYABLE_STATUSES
    label = f"{code} " if code else ""
    return ProviderError(
        f"Bedrock answered {label}{status}" + (f": {message[:300]}" if message else ""),
        status=status,
        retryable=retryable,
        provider_code=code,
        retry_after=retry_after_seconds(headers),
    )


def stream_exception(message: EventMessage) -> ProviderError:
    """An ``exception`` (modelled) or ``error`` (framing-level) event inside a stream."""
    if message.header(":message-type") == "error":
        code = message.header(":error-code")
        text = message.header(":error-message")
        return ProviderError(
            f"The model stream failed: {code} {text}".strip()[:300],
            retryable=True,
            provider_code=code,
        )
    code = message.header(":exception-type")
    text = error_message(json_or_none(message.payload))
    status, retryable = ERROR_TYPES.get(code.lower(), (502, True))
    return ProviderError(
        f"The model stream failed: {code}" + (f": {text[:300]}" if text else ""),
        status=status,
        retryable=retryable,
        provider_code=code,
    )


class ConverseStreamParser:
    """ConverseStream's binary event stream → chunks. Tool calls are numbered in
    the order their blocks start, whatever their content-block index."""

    def __init__(self, *, model: str, response_id: str) -> None:
        self.model = model
        self.response_id = response_id
        self.decoder = EventStreamDecoder()
        self.tool_calls: dict[int, int] = {}  # content block index → tool call index
        self.finished = False

    def feed(self, data: bytes) -> list[ChatChunk]:
        chunks: list[ChatChunk] = []
        for message in self.decoder.feed(data):
            chunks.extend(self._chunks(message))
        return chunks

    def close(self) -> list[ChatChunk]:
        if self.decoder.pending:
            raise ProviderError(
                "The model's stream ended in the middle of an event", retryable=True
            )
        if not self.finished:
            raise ProviderError("The model's stream ended before it finished", retryable=True)
        return []

    def _chunk(self, **fields: Any) -> ChatChunk:
        return ChatChunk(id=self.response_id, model=self.model, **fields)

    def _tool_index(self, block_index: int) -> int:
        return self.tool_calls.setdefault(block_index, len(self.tool_calls))

    def _chunks(self, message: EventMessage) -> list[ChatChunk]:
        if message.header(":message-type") in ("exception", "error"):
            raise stream_exception(message)
        event = message.header(":event-type")
        try:
            payload = jsoncodec.loads(message.payload) if message.payload else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ProviderError("The model sent a malformed stream event") from None
        if not isinstance(payload, Mapping):
            raise ProviderError("The model sent a malformed stream event")
        block_index = int(payload.get("contentBlockIndex") or 0)
        if event == "contentBlockStart":
            use = (payload.get("start") or {}).get("toolUse")
            if not use:
                return []
            delta = ToolCallDelta(
                index=self._tool_index(block_index),
                id=str(use.get("toolUseId") or ""),
                name=str(use.get("name") or ""),
            )
            return [self._chunk(tool_calls=(delta,))]
        if event == "contentBlockDelta":
            return self._delta(payload.get("delta") or {}, block_index)
        if event == "messageStop":
            self.finished = True
            reason = finish_reason(payload.get("stopReason")) or "stop"
            return [self._chunk(finish_reason=reason)]
        if event == "metadata":
            usage = parse_usage(payload.get("usage"))
            return [self._chunk(usage=usage)] if usage is not None else []
        return []  # messageStart, contentBlockStop, and events added after this was written

    def _delta(self, delta: Mapping[str, Any], block_index: int) -> list[ChatChunk]:
        if "text" in delta:
            return [self._chunk(delta=str(delta["text"]))] if delta["text"] else []
        if "toolUse" in delta:
            fragment = str((delta["toolUse"] or {}).get("input") or "")
            call = ToolCallDelta(index=self._tool_index(block_index), arguments=fragment)
            return [self._chunk(tool_calls=(call,))]
        if "reasoningContent" in delta:
            text = (delta["reasoningContent"] or {}).get("text")
            return [self._chunk(reasoning=str(text))] if text else []
        return []
