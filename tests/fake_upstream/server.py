"""Fake upstream: an aiohttp server speaking OpenAI chat completions (JSON and SSE),
embeddings and model listing, with injectable latency and faults.

Answers are deterministic so tests can assert on them: the assistant replies
``Echo: <last user text>``, token counts are whitespace words, and an embedding
is a unit vector derived from the text's SHA-256.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from chatapp.devstack.processes import free_port


@dataclass
class Fault:
    """What the next matching request(s) suffer. ``times`` counts requests."""

    status: int | None = None
    message: str = "injected failure"
    retry_after: float | None = None
    latency: float = 0.0
    drop_after_chunks: int | None = None
    chunk_delay: float = 0.0
    times: int = 1
    path: str | None = None


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def count_tokens(text: str) -> int:
    return len(text.split())


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if p.get("type") == "text")
    return ""


def fake_embedding(text: str, dimensions: int) -> list[float]:
    values: list[float] = []
    counter = 0
    while len(values) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        values.extend(v / 2**31 for v in struct.unpack("<8i", digest))
        counter += 1
    values = values[:dimensions]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


@dataclass
class FakeUpstream:
    host: str = "127.0.0.1"
    port: int = 0
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    api_key: str | None = None
    reply_prefix: str = "Echo: "
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # --- control, called from tests ------------------------------------------
    def inject(self, fault: Fault) -> None:
        self.faults.append(fault)

    def reset(self) -> None:
        self.faults.clear()
        self.requests.clear()
        self.api_key = None

    def _take_fault(self, path: str) -> Fault | None:
        for fault in list(self.faults):
            if fault.path is None or fault.path == path:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # --- lifecycle --------------------------------------------------------------
    def start(self) -> FakeUpstream:
        self.port = self.port or free_port(self.host)
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._chat)
            app.router.add_post("/v1/embeddings", self._embeddings)
            app.router.add_get("/v1/models", self._models)
            self._runner = web.AppRunner(app)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self.host, self.port)
            loop.run_until_complete(site.start())
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-upstream", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake upstream did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        future.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    # --- handlers -----------------------------------------------------------------
    def _check_auth(self, request: web.Request) -> web.Response | None:
        if self.api_key is None:
            return None
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._error(401, "Incorrect API key provided", "invalid_api_key")
        return None

    @staticmethod
    def _error(
        status: int, message: str, code: str, retry_after: float | None = None
    ) -> web.Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        body = {"error": {"message": message, "type": "api_error", "param": None, "code": code}}
        return web.json_response(body, status=status, headers=headers)

    async def _prelude(
        self, request: web.Request
    ) -> tuple[dict[str, Any], Fault | None, web.Response | None]:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return {}, None, self._error(400, "Invalid JSON body", "invalid_request_error")
        self.requests.append(RecordedRequest(request.path, dict(request.headers), body))
        denied = self._check_auth(request)
        if denied is not None:
            return body, None, denied
        fault = self._take_fault(request.path)
        if fault is not None and fault.latency:
            await asyncio.sleep(fault.latency)
        if fault is not None and fault.status is not None:
            return (
                body,
                fault,
                self._error(fault.status, fault.message, "injected", fault.retry_after),
            )
        return body, fault, None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, fault, failure = await self._prelude(request)
        if failure is not None:
            return failure
        messages = body.get("messages") or []
        if not messages:
            return self._error(400, "messages must not be empty", "invalid_request_error")
        reply = self.reply_prefix + last_user_text(messages)
        max_tokens = body.get("max_tokens")
        words = reply.split(" ")
        finish = "stop"
        if isinstance(max_tokens, int) and len(words) > max_tokens:
            words, finish = words[:max_tokens], "length"
        reply = " ".join(words)
        prompt_tokens = sum(count_tokens(str(m.get("content") or "")) for m in messages)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": count_tokens(reply),
            "total_tokens": prompt_tokens + count_tokens(reply),
        }
        ident = f"chatcmpl-fake{int(time.time() * 1000)}"
        created = int(time.time())
        model = body.get("model", "")
        if not body.get("stream"):
            return web.json_response(
                {
                    "id": ident,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply},
                            "finish_reason": finish,
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
            return f"data: {json.dumps(chunk)}\n\n".encode()

        await response.write(event({"role": "assistant", "content": ""}, None))
        for index, word in enumerate(words):
            if (
                fault is not None
                and fault.drop_after_chunks is not None
                and index >= fault.drop_after_chunks
            ):
                if request.transport is not None:
                    request.transport.close()
                return response
            if fault is not None and fault.chunk_delay:
                await asyncio.sleep(fault.chunk_delay)
            await response.write(event({"content": word if index == 0 else " " + word}, None))
        await response.write(event({}, finish))
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

    async def _embeddings(self, request: web.Request) -> web.Response:
        body, _fault, failure = await self._prelude(request)
        if failure is not None:
            return failure
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs:
            return self._error(
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

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": "fake-model", "object": "model", "created": 0, "owned_by": "fake"}],
            }
        )
