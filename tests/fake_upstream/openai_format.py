"""OpenAI chat completions (JSON and SSE), embeddings and model listing."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fake_upstream.server import count_tokens, fake_embedding

if TYPE_CHECKING:
    from tests.fake_upstream.server import FakeUpstream


def error(status: int, message: str, code: str, retry_after: float | None = None) -> web.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    body = {"error": {"message": message, "type": "api_error", "param": None, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if p.get("type") == "text")
    return ""


def add_routes(app: web.Application, upstream: FakeUpstream) -> None:
    async def prelude(request: web.Request) -> tuple[dict[str, Any], Any, web.Response | None]:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return {}, None, error(400, "Invalid JSON body", "invalid_request_error")
        upstream.record(request, body)
        if upstream.api_key is not None:
            bearer = request.headers.get("Authorization") == f"Bearer {upstream.api_key}"
            azure = request.headers.get("api-key") == upstream.api_key
            if not (bearer or azure):
                return body, None, error(401, "Incorrect API key provided", "invalid_api_key")
        fault = await upstream.suffer(request)
        if fault is not None and fault.status is not None:
            return body, fault, error(fault.status, fault.message, "injected", fault.retry_after)
        return body, fault, None

    async def chat(request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body, fault, failure = await prelude(request)
        if failure is not None:
            return failure
        messages = body.get("messages") or []
        if not messages:
            return error(400, "messages must not be empty", "invalid_request_error")
        tools = [t["function"]["name"] for t in body.get("tools") or []]
        reply = upstream.reply_for(
            last_user_text(messages),
            prompt_text=" ".join(str(m.get("content") or "") for m in messages),
            tool_names=tools,
            max_tokens=body.get("max_tokens"),
        )
        usage = {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        }
        ident = f"chatcmpl-fake{int(time.time() * 1000)}"
        created = int(time.time())
        model = body.get("model", "")
        tool_call: dict[str, Any] | None = None
        if reply.tool_name is not None:
            tool_call = {
                "id": "call_fake1",
                "type": "function",
                "function": {
                    "name": reply.tool_name,
                    "arguments": json.dumps(reply.tool_arguments, ensure_ascii=False),
                },
            }
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
            if tool_call:
                message["tool_calls"] = [tool_call]
            return web.json_response(
                {
                    "id": ident,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": reply.finish,
                            "logprobs": None,
                        }
                    ],
                    "usage": usage,
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        def event(delta: dict[str, Any], finish_reason: str | None) -> bytes:
            chunk = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }
            return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()

        await response.write(event({"role": "assistant", "content": ""}, None))
        if tool_call is not None:
            args = tool_call["function"]["arguments"]
            await response.write(
                event(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": tool_call["id"],
                                "type": "function",
                                "function": {"name": reply.tool_name, "arguments": ""},
                            }
                        ]
                    },
                    None,
                )
            )
            await response.write(
                event({"tool_calls": [{"index": 0, "function": {"arguments": args}}]}, None)
            )
        for index, piece in enumerate(reply.pieces()):
            if (
                fault is not None
                and fault.drop_after_chunks is not None
                and index >= fault.drop_after_chunks
            ):
                await upstream.drop_connection(request)
                return response
            if fault is not None and fault.chunk_delay:
                await asyncio.sleep(fault.chunk_delay)
            await response.write(event({"content": piece}, None))
            if index == 0:
                upstream.note_first_token(body.get("user"), arrived, time.monotonic())
        await response.write(event({}, reply.finish))
        if (body.get("stream_options") or {}).get("include_usage"):
            tail = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": usage,
            }
            await response.write(f"data: {json.dumps(tail)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def embeddings(request: web.Request) -> web.Response:
        body, _fault, failure = await prelude(request)
        if failure is not None:
            return failure
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            return error(
                400, "input must be a string or a list of strings", "invalid_request_error"
            )
        dimensions = int(body.get("dimensions") or 384)
        data = [
            {"object": "embedding", "index": i, "embedding": fake_embedding(str(text), dimensions)}
            for i, text in enumerate(inputs)
        ]
        tokens = sum(count_tokens(str(t)) for t in inputs)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", ""),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def models(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}],
            }
        )

    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_get("/v1/models", models)
    # Azure OpenAI: the deployment in the path, the version in the query.
    app.router.add_post("/openai/deployments/{deployment}/chat/completions", chat)
    app.router.add_post("/openai/deployments/{deployment}/embeddings", embeddings)
