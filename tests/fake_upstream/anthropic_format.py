"""The Anthropic Messages API (``POST /v1/messages``), JSON and SSE.

Checks what the real API insists on (``x-api-key`` when a key is set,
``anthropic-version``, ``max_tokens``, alternating turns, each ``tool_result``
answering a ``tool_use`` of the assistant turn right before it) and answers with
the shared deterministic reply. A forced ``tool_choice`` is obeyed; after a turn
of tool results the reply echoes the results' text.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fake_upstream.server import FakeReply

if TYPE_CHECKING:
    from tests.fake_upstream.server import FakeUpstream, Fault

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def error(status: int, message: str, retry_after: float | None = None) -> web.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    body = {
        "type": "error",
        "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": "req_fake",
    }
    return web.json_response(body, status=status, headers=headers)


def blocks_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def block_text(block: dict[str, Any]) -> str:
    if block.get("type") == "text":
        return str(block.get("text") or "")
    if block.get("type") == "tool_result":
        content = block.get("content")
        if isinstance(content, list):
            return " ".join(str(b.get("text") or "") for b in content if isinstance(b, dict))
        return str(content or "")
    return ""


def ordering_problem(messages: list[dict[str, Any]]) -> str | None:
    """What the real API would reject about roles and tool ordering, if anything."""
    previous_calls: set[str] = set()
    previous_role = None
    for position, message in enumerate(messages):
        role = message.get("role")
        if role not in ("user", "assistant"):
            return f"messages.{position}.role: must be user or assistant"
        if role == previous_role:
            return f"messages.{position}: roles must alternate between user and assistant"
        blocks = blocks_of(message)
        results = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
        if role == "user" and results - previous_calls:
            return f"messages.{position}: tool_result without a matching tool_use just before"
        if role == "user" and previous_calls - results:
            return f"messages.{position}: tool_use ids without tool_result blocks after them"
        previous_calls = {str(b.get("id")) for b in blocks if b.get("type") == "tool_use"}
        previous_role = role
    return None


def plan(upstream: FakeUpstream, body: dict[str, Any]) -> FakeReply:
    messages = body["messages"]
    last = blocks_of(messages[-1])
    tools = [str(t.get("name")) for t in body.get("tools") or []]
    answering_tools = any(b.get("type") == "tool_result" for b in last)
    user_text = " ".join(block_text(b) for b in last if block_text(b))
    system = body.get("system")
    if isinstance(system, list):
        system = " ".join(str(b.get("text") or "") for b in system)
    prompt_text = " ".join(
        [str(system or "")] + [block_text(b) for m in messages for b in blocks_of(m)]
    )
    reply = upstream.reply_for(
        user_text,
        prompt_text=prompt_text,
        tool_names=[] if answering_tools else tools,
        max_tokens=body.get("max_tokens"),
    )
    choice = body.get("tool_choice") or {}
    forced = choice.get("name") if choice.get("type") == "tool" else None
    if choice.get("type") == "any" and tools and reply.tool_name is None:
        forced = tools[0]
    if forced:
        return FakeReply([], "tool_calls", reply.prompt_tokens, forced, {"query": user_text})
    return reply


def content_of(reply: FakeReply) -> list[dict[str, Any]]:
    if reply.tool_name is not None:
        return [
            {
                "type": "tool_use",
                "id": "toolu_fake1",
                "name": reply.tool_name,
                "input": reply.tool_arguments,
            }
        ]
    return [{"type": "text", "text": reply.text}]


def sse(kind: str, data: dict[str, Any]) -> bytes:
    payload = json.dumps({"type": kind, **data}, ensure_ascii=False)
    return f"event: {kind}\ndata: {payload}\n\n".encode()


def stream_events(ident: str, model: str, reply: FakeReply) -> tuple[list[bytes], list[bytes]]:
    """(events before the deltas, the deltas); the tail is added by the caller."""
    start: dict[str, Any] = {
        "message": {
            "id": ident,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": reply.prompt_tokens, "output_tokens": 1},
        }
    }
    head = [sse("message_start", start)]
    if reply.tool_name is not None:
        block: dict[str, Any] = {"type": "tool_use", "id": "toolu_fake1", "name": reply.tool_name}
        arguments = json.dumps(reply.tool_arguments, ensure_ascii=False)
        half = len(arguments) // 2
        pieces = ["", arguments[:half], arguments[half:]]
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        head.append(
            sse("content_block_start", {"index": 0, "content_block": {**block, "input": {}}})
        )
    else:
        deltas = [{"type": "text_delta", "text": p} for p in reply.pieces()]
        head.append(
            sse("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        )
    head.append(sse("ping", {}))
    return head, [sse("content_block_delta", {"index": 0, "delta": d}) for d in deltas]


async def stream_reply(
    request: web.Request,
    upstream: FakeUpstream,
    fault: Fault | None,
    reply: FakeReply,
    ident: str,
    model: str,
) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    head, deltas = stream_events(ident, model, reply)
    for event in head:
        await response.write(event)
    for index, event in enumerate(deltas):
        dropped_at = fault.drop_after_chunks if fault is not None else None
        if dropped_at is not None and index >= dropped_at:
            await upstream.drop_connection(request)
            return response
        if fault is not None and fault.chunk_delay:
            await asyncio.sleep(fault.chunk_delay)
        await response.write(event)
    await response.write(sse("content_block_stop", {"index": 0}))
    delta = {"stop_reason": STOP_REASONS[reply.finish], "stop_sequence": None}
    usage = {"output_tokens": reply.completion_tokens}
    await response.write(sse("message_delta", {"delta": delta, "usage": usage}))
    await response.write(sse("message_stop", {}))
    await response.write_eof()
    return response


def add_routes(app: web.Application, upstream: FakeUpstream) -> None:
    async def messages(request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return error(400, "The request body is not valid JSON")
        if not isinstance(body, dict):
            return error(400, "The request body must be a JSON object")
        upstream.record(request, body)
        if upstream.api_key is not None and request.headers.get("x-api-key") != upstream.api_key:
            return error(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return error(400, "anthropic-version: header is required")
        fault = await upstream.suffer(request)
        if fault is not None and fault.status is not None:
            return error(fault.status, fault.message, fault.retry_after)
        if not isinstance(body.get("max_tokens"), int):
            return error(400, "max_tokens: Field required")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return error(400, "messages: at least one message is required")
        problem = ordering_problem(messages)
        if problem is not None:
            return error(400, problem)
        reply = plan(upstream, body)
        ident = f"msg_fake{int(time.time() * 1000)}"
        model = str(body.get("model") or "")
        if body.get("stream"):
            return await stream_reply(request, upstream, fault, reply, ident, model)
        return web.json_response(
            {
                "id": ident,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content_of(reply),
                "stop_reason": STOP_REASONS[reply.finish],
                "stop_sequence": None,
                "usage": {
                    "input_tokens": reply.prompt_tokens,
                    "output_tokens": reply.completion_tokens,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                },
            }
        )

    app.router.add_post("/v1/messages", messages)
