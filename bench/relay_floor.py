"""The least CPU a Python relay spends per model-paced stream chunk here, run by hand:

    .venv/bin/python -m bench.relay_floor [--words 100] [--streams 96] [--chunk-delay-ms 20]

Starts the fake upstream pacing its chunks as a model does its tokens, then relays eight
staggered streams at a time through two servers that only forward the upstream's bytes,
nothing parsed, metered or logged:

- ``daphne``: this module's ASGI app under ``python -m chatapp.serve`` (daphne on uvloop,
  with the platform's daphne tuning), the server and HTTP client the gateway uses;
- ``asyncio``: a bare HTTP/1.1 server on uvloop's asyncio streams, with the same client.

It prints each server's CPU (user + system) per relayed chunk: the floor under the
gateway's own figure for a paced upstream (``bench.gateway``'s paced phase), where
each chunk is a wake-up of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import subprocess
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import psutil
import uvloop

from bench.load import Clients, Endpoint, PathResult, burst, chat_body
from bench.procs import fake_argv
from chatapp import daphne_tuning
from chatapp.devstack.processes import free_port, wait_for_port
from chatapp.devstack.stack import PYTHON, ROOT
from providers.wire import WireClient

CONCURRENCY = 8
UPSTREAM_ENV = "RELAY_FLOOR_UPSTREAM"
Message = MutableMapping[str, Any]

_client: WireClient | None = None

# daphne imports the app before it listens: its connections get the platform's tuning,
# as under chatapp.asgi. (It only patches daphne's and Twisted's modules; the other
# variant and the load generator do not use them.)
daphne_tuning.install()


def _upstream_client() -> WireClient:
    global _client
    if _client is None:
        _client = WireClient(
            tls=ssl.create_default_context(), max_connections=64, keepalive_seconds=60
        )
    return _client


async def application(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """The daphne variant: forward the request, then each upstream read as it comes."""
    if scope["type"] != "http":
        return
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    client = _upstream_client()
    response = await client.open(
        "POST",
        os.environ[UPSTREAM_ENV],
        {"content-type": "application/json"},
        b"".join(parts),
        connect_timeout=10,
        read_timeout=60,
    )
    headers = [(b"content-type", b"text/event-stream")]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    try:
        async for data in response.chunks():
            await send({"type": "http.response.body", "body": data, "more_body": True})
    finally:
        client.finish(response)
    await send({"type": "http.response.body", "body": b""})


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The asyncio variant: requests with a Content-Length, answers chunked."""
    client = _upstream_client()
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            length = next(
                (
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            body = await reader.readexactly(length)
            response = await client.open(
                "POST",
                os.environ[UPSTREAM_ENV],
                {"content-type": "application/json"},
                body,
                connect_timeout=10,
                read_timeout=60,
            )
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            try:
                async for data in response.chunks():
                    writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            finally:
                client.finish(response)
            writer.write(b"0\r\n\r\n")
    finally:
        writer.close()


async def _serve_asyncio(port: int) -> None:
    server = await asyncio.start_server(_serve_connection, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def _server_argv(variant: str, port: int) -> list[str]:
    if variant == "daphne":
        return [PYTHON, "-m", "chatapp.serve", "-v", "0", "-b", "127.0.0.1", "-p", str(port)]
    return [PYTHON, "-m", "bench.relay_floor", "--serve-asyncio", str(port)]


async def _relay_load(
    endpoint: Endpoint, server: psutil.Process, words: int, streams: int, stream_seconds: float
) -> tuple[float, PathResult]:
    """Server CPU µs per chunk over ``streams`` streams, eight in flight, staggered."""
    body = chat_body("fake-model", words=words, stream=True)
    async with Clients(CONCURRENCY) as clients:
        await burst(clients, endpoint, body, PathResult("relay"), count=CONCURRENCY, stream=True)
        result = PathResult("relay")
        before = server.cpu_times()
        await burst(
            clients,
            endpoint,
            body,
            result,
            count=streams,
            stream=True,
            stagger=stream_seconds / CONCURRENCY,
        )
        after = server.cpu_times()
    cpu_seconds = (after.user + after.system) - (before.user + before.system)
    return cpu_seconds * 1e6 / max(1, result.chunks), result


def measure(variant: str, upstream: str, args: argparse.Namespace) -> str:
    port = free_port()
    env = {**os.environ, UPSTREAM_ENV: upstream}
    argv = _server_argv(variant, port)
    if variant == "daphne":
        argv.append("bench.relay_floor:application")
    process = subprocess.Popen(argv, env=env, cwd=ROOT)  # noqa: S603 - our interpreter
    try:
        wait_for_port("127.0.0.1", port, timeout=30, process=process, name=variant, log=None)
        endpoint = Endpoint(
            variant,
            f"http://127.0.0.1:{port}/v1/chat/completions",
            {"content-type": "application/json"},
        )
        stream_seconds = (args.words + 2) * args.chunk_delay_ms / 1000
        per_chunk, result = uvloop.run(
            _relay_load(
                endpoint, psutil.Process(process.pid), args.words, args.streams, stream_seconds
            )
        )
    finally:
        process.terminate()
        process.wait(10)
    return (
        f"  {variant:8s} {per_chunk:7.1f} µs CPU per chunk "
        f"({result.chunks} chunks, {len(result.latencies)} streams, {result.errors} errors)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.relay_floor", description=__doc__)
    parser.add_argument("--words", type=int, default=100, help="chunks per stream")
    parser.add_argument("--streams", type=int, default=96, help="streams measured per server")
    parser.add_argument("--chunk-delay-ms", type=float, default=20.0)
    parser.add_argument("--serve-asyncio", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_asyncio:
        uvloop.run(_serve_asyncio(args.serve_asyncio))
        return 0
    if min(args.words, args.streams) < 1 or args.chunk_delay_ms <= 0:
        parser.error("--words and --streams must be at least 1, --chunk-delay-ms positive")
    fake_port = free_port()
    fake = subprocess.Popen(  # noqa: S603 - our interpreter
        fake_argv(fake_port, args.chunk_delay_ms), cwd=ROOT, stdout=subprocess.PIPE
    )
    try:
        assert fake.stdout is not None  # noqa: S101 - piped above
        fake.stdout.readline()  # "ready <origin>"
        upstream = f"http://127.0.0.1:{fake_port}/v1/chat/completions"
        lines = [
            f"relay floor: {args.streams} streams of {args.words} chunks, "
            f"{CONCURRENCY} in flight, upstream pause {args.chunk_delay_ms:g} ms per chunk"
        ]
        lines += [measure(variant, upstream, args) for variant in ("daphne", "asyncio")]
    finally:
        fake.terminate()
        fake.wait(10)
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
