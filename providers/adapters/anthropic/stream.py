"""Anthropic's streamed events → ``ChatChunk``.

The documented sequence: ``message_start`` (id and input usage), then per content
block ``content_block_start`` / ``content_block_delta``… / ``content_block_stop``, then
``message_delta`` (stop reason, cumulative output usage) and ``message_stop``; ``ping``
may come anywhere and ``error`` replaces the rest. Text, thinking and tool input are
relayed as they arrive; the finish reason and usage go on one last chunk at
``message_stop``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from providers import jsoncodec
from providers.adapters.anthropic.request import JSON_TOOL_NAME
from providers.adapters.anthropic.response import finish_reason, parse_usage, stream_error
from providers.adapters.sse import SseDecoder, SseEvent
from providers.errors import ProviderError
from providers.types import ChatChunk, ToolCallDelta, Usage


class AnthropicStreamParser:
    def __init__(self, *, model: str, json_mode: bool) -> None:
        self.model = model
        self.json_mode = json_mode
        self.sse = SseDecoder()
        self.message_id = ""
        self.usage: dict[str, Any] = {}
        self.stop_reason: str | None = None
        # Content block index → position among the tool calls (OpenAI's tool call index).
        self.tool_slots: dict[int, int] = {}
        # Blocks of the forced JSON-answer tool: their input is the answer text.
        self.json_blocks: set[int] = set()
        self.stopped = False

    def feed(self, data: bytes) -> list[ChatChunk]:
        return self._chunks(self.sse.feed(data))

    def close(self) -> list[ChatChunk]:
        chunks = self._chunks(self.sse.close())
        if not self.stopped:
            raise ProviderError("The model's stream ended before it finished", retryable=True)
        return chunks

    def _chunks(self, events: list[SseEvent]) -> list[ChatChunk]:
        chunks = []
        for event in events:
            try:
                payload = jsoncodec.loads(event.data)
            except json.JSONDecodeError:
                raise ProviderError("The model sent a malformed stream event") from None
            if not isinstance(payload, Mapping):
                raise ProviderError("The model sent a malformed stream event")
            try:
                chunk = self._event(str(payload.get("type") or event.event), payload)
            except (AttributeError, TypeError, ValueError):
                raise ProviderError(
                    "The model sent a stream event of an unexpected shape"
                ) from None
            if chunk is not None:
                chunks.append(chunk)
        return chunks

    def _chunk(self, **fields: Any) -> ChatChunk:
        return ChatChunk(id=self.message_id, model=self.model, **fields)

    def _event(self, kind: str, payload: Mapping[str, Any]) -> ChatChunk | None:
        if kind == "message_start":
            message = payload.get("message") or {}
            self.message_id = str(message.get("id") or "")
            self.usage = dict(message.get("usage") or {})
            return None
        if kind == "content_block_start":
            return self._block_start(
                int(payload.get("index") or 0), payload.get("content_block") or {}
            )
        if kind == "content_block_delta":
            return self._block_delta(int(payload.get("index") or 0), payload.get("delta") or {})
        if kind == "message_delta":
            self.stop_reason = (payload.get("delta") or {}).get("stop_reason") or self.stop_reason
            # Counts here are cumulative and may restate the input side: newest wins.
            self.usage.update(
                {k: v for k, v in (payload.get("usage") or {}).items() if v is not None}
            )
            return None
        if kind == "message_stop":
            self.stopped = True
            return self._chunk(
                finish_reason=finish_reason(self.stop_reason, tool_called=bool(self.tool_slots)),
                usage=parse_usage(self.usage) or Usage(),
            )
        if kind == "error":
            raise stream_error(payload.get("error"))
        # ping, content_block_stop and event types added later carry nothing to relay.
        return None

    def _block_start(self, index: int, block: Mapping[str, Any]) -> ChatChunk | None:
        kind = block.get("type")
        if kind == "tool_use" and self.json_mode and block.get("name") == JSON_TOOL_NAME:
            self.json_blocks.add(index)
            return None
        if kind == "tool_use":
            slot = self.tool_slots.setdefault(index, len(self.tool_slots))
            call = ToolCallDelta(index=slot, id=str(block.get("id") or ""), name=block.get("name"))
            return self._chunk(tool_calls=(call,))
        if kind == "text" and block.get("text"):
            return self._chunk(delta=str(block["text"]))
        if kind == "thinking" and block.get("thinking"):
            return self._chunk(reasoning=str(block["thinking"]))
        return None

    def _block_delta(self, index: int, delta: Mapping[str, Any]) -> ChatChunk | None:
        kind = delta.get("type")
        if kind == "text_delta":
            return self._chunk(delta=str(delta.get("text") or ""))
        if kind == "thinking_delta":
            return self._chunk(reasoning=str(delta.get("thinking") or ""))
        if kind != "input_json_delta" or not delta.get("partial_json"):
            return None  # signature_delta, citations_delta, an empty first input piece
        partial = str(delta["partial_json"])
        if index in self.json_blocks:
            return self._chunk(delta=partial)
        if index in self.tool_slots:
            return self._chunk(
                tool_calls=(ToolCallDelta(self.tool_slots[index], arguments=partial),)
            )
        return None
