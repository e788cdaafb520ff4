"""An ASGI app, tuned as the platform's is, whose answers exercise how daphne's
connections send (chatapp.prompt_writes): headers written before a body that comes
later, answers without a body, a body larger than the socket takes at once, and a
report of the connections' transport (over HTTP and over a websocket)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chatapp import daphne_tuning

daphne_tuning.install()

_released = asyncio.Event()
BLOCK = bytes(range(256)) * 4096  # 1 MiB with a pattern, so order is checked too


async def _answer(send: Any, status: int, body: bytes, headers: list[Any] | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


def _transports() -> list[dict[str, Any]]:
    from twisted.internet import reactor, tcp

    return [
        {
            "class": type(reader).__name__,
            "nodelay": reader.getTcpNoDelay(),
            "prompt": getattr(reader, "prompt", None),
        }
        for reader in reactor.getReaders()  # type: ignore[misc]
        if isinstance(reader, tcp.Server)
    ]


async def websocket(receive: Any, send: Any) -> None:
    """Answers every message with the connections' report."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while (await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": json.dumps(_transports())})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await websocket(receive, send)
        return
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/headers-first":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await _released.wait()
        _released.clear()
        await send({"type": "http.response.body", "body": b"late body"})
    elif path == "/release":
        _released.set()
        await _answer(send, 200, b"released")
    elif path == "/no-content":
        await _answer(send, 204, b"")
    elif path == "/large":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(16):
            await send({"type": "http.response.body", "body": BLOCK, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/transports":
        await _answer(send, 200, json.dumps(_transports()).encode())
    else:
        await _answer(send, 200, b"hello", [(b"content-length", b"5")])
