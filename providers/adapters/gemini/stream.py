"""``streamGenerateContent?alt=sse``: each SSE event is a whole GenerateContentResponse.

Text and thought parts arrive as deltas; a ``functionCall`` part arrives whole, so
it becomes one ``ToolCallDelta`` with its full arguments. The event carrying
``finishReason`` (usually the last) also carries the final ``usageMetadata``;
there is no ``[DONE]``, so a body that ends before a finishReason was cut short.
"""

from __future__ import annotations

import json
from typing import Any

from providers import jsoncodec
from providers.adapters.gemini.response import (
    error_from_payload,
    finish_reason,
    first_candidate,
    parse_usage,
    raise_if_prompt_blocked,
    read_parts,
)
from providers.adapters.sse import SseDecoder, SseEvent
from providers.errors import ProviderError
from providers.types import ChatChunk, ToolCallDelta


class GeminiStreamParser:
    def __init__(self, *, model: str) -> None:
        self.model = model
        self.sse = SseDecoder()
        self.finished = False
        self.tool_calls = 0

    def feed(self, data: bytes) -> list[ChatChunk]:
        return self._chunks(self.sse.feed(data))

    def close(self) -> list[ChatChunk]:
        chunks = self._chunks(self.sse.close())
        if not self.finished:
            raise ProviderError("The model's stream ended before it finished", retryable=True)
        return chunks

    def _chunks(self, events: list[SseEvent]) -> list[ChatChunk]:
        chunks = []
        for event in events:
            try:
                payload = jsoncodec.loads(event.data)
            except json.JSONDecodeError:
                raise ProviderError("The model sent a malformed stream event") from None
            chunk = self._chunk(payload)
            if chunk is not None:
                chunks.append(chunk)
        return chunks

    def _chunk(self, payload: Any) -> ChatChunk | None:
        if not isinstance(payload, dict):
            raise ProviderError("The model sent a stream event in an unexpected shape")
        if "error" in payload:
            raise error_from_payload(payload)
        raise_if_prompt_blocked(payload)
        candidate = first_candidate(payload) or {}
        parts = read_parts(candidate)
        deltas = tuple(
            ToolCallDelta(
                index=self.tool_calls + offset, id=call.id, name=call.name, arguments=call.arguments
            )
            for offset, call in enumerate(parts.tool_calls)
        )
        self.tool_calls += len(deltas)
        reason = finish_reason(candidate.get("finishReason"), called_tools=self.tool_calls > 0)
        # Usage is cumulative and only final once the model has finished.
        usage = parse_usage(payload.get("usageMetadata")) if reason or self.finished else None
        self.finished = self.finished or reason is not None
        if not (parts.text or parts.reasoning or deltas or reason or usage):
            return None
        return ChatChunk(
            id=str(payload.get("responseId") or ""),
            model=self.model,
            delta=parts.text,
            reasoning=parts.reasoning,
            tool_calls=deltas,
            finish_reason=reason,
            usage=usage,
        )
