"""A stream whose upstream outpaces the relay (a whole answer in one network read)
is parsed and relayed a slice at a time, with the loop's other work in between
(providers.transport.FAIR_SLICE_BYTES): one such stream must not hold up every other
request on the server."""

from __future__ import annotations

import asyncio
import itertools
import json

from providers import transport
from providers.adapters import get_adapter
from providers.http import build_async_client
from providers.types import ChatMessage, ChatRequest, DeploymentTarget
from tests.aio import run

WORDS = [f"낱말{n} " for n in range(400)]


def sse_body() -> bytes:
    events = [
        {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": word}}]}
        for word in WORDS
    ]
    lines = [b"data: " + json.dumps(event).encode() + b"\n\n" for event in events]
    return b"".join(lines) + b"data: [DONE]\n\n"


async def answer_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    body = sse_body()
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()
    await reader.read()  # until the client closes
    writer.close()


async def relay_while_counting() -> tuple[list[str], list[int]]:
    server = await asyncio.start_server(answer_at_once, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    target = DeploymentTarget(1, "openai", "m", f"http://127.0.0.1:{port}/v1")
    request = ChatRequest(model="m", messages=[ChatMessage("user", "hi")])
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    deltas: list[str] = []
    turns_at_batch: list[int] = []
    other = asyncio.ensure_future(other_work())
    async with server, build_async_client() as client:
        stream = transport.open_stream(client, get_adapter("openai"), target, request)
        async for batch in stream:
            turns_at_batch.append(turns)
            deltas += [chunk.delta for chunk in batch]
    other.cancel()
    return deltas, turns_at_batch


def test_an_answer_read_at_once_is_relayed_in_slices_between_other_work() -> None:
    assert len(sse_body()) > 8 * transport.FAIR_SLICE_BYTES
    deltas, turns_at_batch = run(relay_while_counting())
    assert "".join(deltas) == "".join(WORDS)  # every word, in order, none split or lost
    # Many batches, and the other task ran between each and the next.
    assert len(turns_at_batch) >= 8
    assert all(b > a for a, b in itertools.pairwise(turns_at_batch))
