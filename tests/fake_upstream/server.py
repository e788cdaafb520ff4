"""Fake upstream: one aiohttp server standing in for the paid providers, each format
in its own module (``openai_format``, ``anthropic_format``, ``gemini_format``,
``bedrock_format``), with injectable latency and faults shared by all.

Answers are deterministic so tests can assert on them: the assistant replies
``Echo: <last user text>``; when tools are offered and the user text mentions
"tool" (or "도구"), it calls the first tool with ``{"query": <text>}``. Token
counts are whitespace words; an embedding is a unit vector from the text's SHA-256.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import struct
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from chatapp.devstack.processes import free_port

MAX_FIRST_TOKENS = 100_000


@dataclass
class Fault:
    """What the next matching request(s) suffer. ``times`` counts requests;
    ``path`` limits the fault to one route (any route when None)."""

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
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FakeReply:
    """What the fake model answers, before any wire format."""

    words: list[str]
    finish: str  # "stop" | "length" | "tool_calls"
    prompt_tokens: int
    tool_name: str | None = None
    tool_arguments: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def completion_tokens(self) -> int:
        return len(self.words) if self.tool_name is None else 1

    def pieces(self) -> list[str]:
        """The text as streamed: the first word, then " word" for each next one."""
        return [w if i == 0 else " " + w for i, w in enumerate(self.words)]


def count_tokens(text: str) -> int:
    return len(text.split())


def plan_reply(
    user_text: str,
    *,
    prompt_text: str,
    tool_names: list[str],
    max_tokens: int | None,
    reply_prefix: str = "Echo: ",
) -> FakeReply:
    prompt_tokens = count_tokens(prompt_text)
    if tool_names and ("tool" in user_text.lower() or "도구" in user_text):
        return FakeReply([], "tool_calls", prompt_tokens, tool_names[0], {"query": user_text})
    words = (reply_prefix + user_text).split(" ")
    finish = "stop"
    if isinstance(max_tokens, int) and len(words) > max_tokens:
        words, finish = words[:max_tokens], "length"
    return FakeReply(words, finish, prompt_tokens)


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
    api_key: str | None = None  # when set, every format checks its own auth header for it
    reply_prefix: str = "Echo: "
    # ``user`` tag -> (request arrived, first content chunk written), monotonic seconds:
    # the benchmark subtracts the fake's own first-token time from what its client saw.
    first_tokens: dict[str, tuple[float, float]] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-format base (``/v1``)."""
        return f"{self.origin}/v1"

    # --- control, called from tests ------------------------------------------
    def inject(self, fault: Fault) -> None:
        self.faults.append(fault)

    def reset(self) -> None:
        self.faults.clear()
        self.requests.clear()
        self.first_tokens.clear()
        self.api_key = None

    def take_fault(self, path: str) -> Fault | None:
        for fault in list(self.faults):
            if fault.path is None or fault.path == path:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def record(self, request: web.Request, body: dict[str, Any]) -> None:
        self.requests.append(
            RecordedRequest(request.path, dict(request.headers), body, dict(request.query))
        )

    def note_first_token(self, tag: object, arrived: float, written: float) -> None:
        if not isinstance(tag, str) or not tag:
            return
        if len(self.first_tokens) >= MAX_FIRST_TOKENS:
            self.first_tokens.pop(next(iter(self.first_tokens)))
        self.first_tokens[tag] = (arrived, written)

    def take_first_tokens(self) -> dict[str, tuple[float, float]]:
        taken, self.first_tokens = self.first_tokens, {}
        return taken

    async def suffer(self, request: web.Request) -> Fault | None:
        """Take the fault for this request and sleep its latency."""
        fault = self.take_fault(request.path)
        if fault is not None and fault.latency:
            await asyncio.sleep(fault.latency)
        return fault

    def reply_for(
        self, user_text: str, *, prompt_text: str, tool_names: list[str], max_tokens: int | None
    ) -> FakeReply:
        return plan_reply(
            user_text,
            prompt_text=prompt_text,
            tool_names=tool_names,
            max_tokens=max_tokens,
            reply_prefix=self.reply_prefix,
        )

    @staticmethod
    async def drop_connection(request: web.Request) -> None:
        """Break the connection once what was written has had time to be read: the
        case under test is a client that got the first chunks. (Closed at once, the
        break can overtake bytes still in the client's buffer, which a client may then
        drop.)"""
        await asyncio.sleep(0.05)
        if request.transport is not None:
            request.transport.close()

    async def _first_tokens_view(self, request: web.Request) -> web.Response:
        """What ``take_first_tokens`` takes, for a client in another process."""
        return web.json_response(self.take_first_tokens())

    # --- lifecycle --------------------------------------------------------------
    def start(self) -> FakeUpstream:
        from tests.fake_upstream import (
            anthropic_format,
            bedrock_format,
            gemini_format,
            openai_format,
        )

        self.port = self.port or free_port(self.host)
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            app = web.Application(client_max_size=32 * 1024 * 1024)
            for module in (openai_format, anthropic_format, gemini_format, bedrock_format):
                module.add_routes(app, self)
            app.router.add_get("/__fake/first-tokens", self._first_tokens_view)
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
