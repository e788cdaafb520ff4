"""The model-call client (providers.wire): the bytes on the wire are the ones the
adapter built, connections are reused and closed as they should be, and failures
are httpx's errors. And the provider client's httpx side keeps no cookies."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvloop
from aiohttp import web

from chatapp.devstack.processes import free_port
from providers.http import build_async_client, tls_context
from providers.wire import WireClient

Runner = Callable[[Coroutine[Any, Any, Any]], Any]
TIMEOUTS = {"connect_timeout": 5.0, "read_timeout": 5.0}
BIG = bytes(range(256)) * 16 * 1024  # 4 MiB


@asynccontextmanager
async def upstream(seen: dict[str, Any]) -> AsyncIterator[str]:
    async def signed(request: web.Request) -> web.Response:
        seen["path"] = request.raw_path
        seen["headers"] = [(k.decode(), v.decode()) for k, v in request.raw_headers]
        seen["body"] = await request.read()
        assert request.transport is not None
        seen.setdefault("peers", []).append(request.transport.get_extra_info("peername"))
        return web.Response(
            body=gzip.compress("안녕".encode()), headers={"Content-Encoding": "gzip"}
        )

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(text="late")

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        try:
            for _ in range(200):
                await response.write(b"data: {}\n\n")
                await asyncio.sleep(0.01)
        except ConnectionError:
            seen["reader_left"] = True
        return response

    async def stalls(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"data: first\n\n")
        await asyncio.sleep(2)
        return response

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked
        await response.prepare(request)
        for start in range(0, len(BIG), 100_000):
            await response.write(BIG[start : start + 100_000])
        await response.write_eof()
        return response

    async def bulky(request: web.Request) -> web.Response:
        assert request.transport is not None
        seen.setdefault("peers", []).append(request.transport.get_extra_info("peername"))
        return web.Response(body=BIG[:300_000])

    async def refused(request: web.Request) -> web.Response:
        return web.json_response({"error": "no"}, status=429, headers={"Retry-After": "7"})

    async def cookie_jar(request: web.Request) -> web.Response:
        seen.setdefault("cookies", []).append(request.headers.get("Cookie"))
        response = web.Response(text="ok")
        response.set_cookie("upstream_session", "caller-a")
        return response

    app = web.Application()
    app.router.add_get("/cookie", cookie_jar)
    app.router.add_post("/model/{model}/converse", signed)
    app.router.add_get("/slow", slow)
    app.router.add_get("/endless", endless)
    app.router.add_get("/stalls", stalls)
    app.router.add_get("/big", big)
    app.router.add_post("/refused", refused)
    app.router.add_get("/bulky", bulky)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "localhost", port).start()
    try:
        # a host name, not an address: cookie jars keep no cookies for addresses
        yield f"http://localhost:{port}"
    finally:
        await runner.cleanup()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


@asynccontextmanager
async def raw_upstream(handle: Handler) -> AsyncIterator[str]:
    """A server answering with bytes written by hand; ``handle`` gets the connection's
    number (0 for the first)."""
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        number, connections = connections, connections + 1
        try:
            await handle(reader, writer, number)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Each scenario on asyncio's loop and on uvloop's, which the web server runs."""
    factory = uvloop.new_event_loop if request.param == "uvloop" else asyncio.new_event_loop

    def on_loop(coroutine: Coroutine[Any, Any, Any]) -> Any:
        def in_thread() -> Any:
            with asyncio.Runner(loop_factory=factory) as runner:
                return runner.run(coroutine)

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(in_thread).result()

    return on_loop


async def exchange(
    client: WireClient,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    **timeouts: float,
) -> tuple[int, Mapping[str, str], bytes]:
    """A whole answer, as the transport reads one: open, read, finish."""
    response = await client.open(method, url, headers, body, **timeouts)
    try:
        content = await response.read()
    finally:
        client.finish(response)
    return response.status, response.headers, content


async def two_calls(handle: Handler) -> list[bytes]:
    """The bodies of two calls in a row to an upstream answering with ``handle``."""
    client = wire()
    async with raw_upstream(handle) as origin:
        bodies = [
            (await exchange(client, "POST", f"{origin}/v1", {}, b"{}", **TIMEOUTS))[2]
            for _ in range(2)
        ]
    await client.aclose()
    return bodies


def wire(max_connections: int = 16) -> WireClient:
    return WireClient(tls=tls_context(), max_connections=max_connections, keepalive_seconds=60)


def test_a_model_call_goes_out_as_the_adapter_built_it_on_one_kept_connection(run: Runner) -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> list[tuple[int, str]]:
        client = wire()
        answers = []
        async with upstream(seen) as origin:
            for _ in range(2):
                status, _headers, body = await exchange(
                    client,
                    "POST",
                    f"{origin}/model/anthropic.claude-v1%3A0/converse",
                    {"X-Amz-Date": "20261128T000000Z", "Content-Type": "application/json"},
                    b'{"q": 1}',
                    **TIMEOUTS,
                )
                answers.append((status, body.decode()))
            await client.aclose()
        return answers

    assert run(scenario()) == [(200, "안녕"), (200, "안녕")]  # gzip, decoded
    # the signed path is not re-encoded, header names keep their case
    assert seen["path"] == "/model/anthropic.claude-v1%3A0/converse"
    assert ("X-Amz-Date", "20261128T000000Z") in seen["headers"]
    assert seen["body"] == b'{"q": 1}'
    assert seen["peers"][0] == seen["peers"][1]  # the second call reused the connection

    async def unencoded() -> None:
        client = wire()
        async with upstream(seen) as origin:
            await exchange(client, "POST", f"{origin}/model/a b/converse", {}, b"{}", **TIMEOUTS)
        await client.aclose()

    run(unencoded())
    assert seen["path"] == "/model/a%20b/converse"  # encoded as httpx encodes it


def test_an_error_answer_keeps_its_status_headers_and_body(run: Runner) -> None:
    async def scenario() -> tuple[int, str | None, bytes]:
        client = wire()
        async with upstream({}) as origin:
            status, headers, body = await exchange(
                client, "POST", f"{origin}/refused", {}, b"", **TIMEOUTS
            )
        await client.aclose()
        return status, headers.get("retry-after"), body

    assert run(scenario()) == (429, "7", b'{"error": "no"}')


def test_failures_are_httpx_errors(run: Runner) -> None:
    async def scenario() -> None:
        client = wire()
        async with upstream({}) as origin:
            with pytest.raises(httpx.ReadTimeout):
                await exchange(
                    client, "GET", f"{origin}/slow", {}, b"", connect_timeout=1, read_timeout=0.2
                )
            # silent in the middle of a stream
            response = await client.open(
                "GET", f"{origin}/stalls", {}, b"", connect_timeout=1, read_timeout=0.3
            )
            try:
                with pytest.raises(httpx.ReadTimeout):
                    async for _ in response.chunks():
                        pass
            finally:
                client.finish(response)
        with pytest.raises(httpx.ConnectError):
            await exchange(client, "GET", f"http://127.0.0.1:{free_port()}/", {}, b"", **TIMEOUTS)
        with pytest.raises(httpx.UnsupportedProtocol):
            await exchange(client, "GET", "ftp://127.0.0.1/", {}, b"", **TIMEOUTS)
        await client.aclose()

    run(scenario())


def test_a_header_cannot_smuggle_another_and_nothing_is_sent(run: Runner) -> None:
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        received.append(await reader.read(1000))

    async def scenario() -> None:
        client = wire()
        async with raw_upstream(handle) as origin:
            with pytest.raises(httpx.LocalProtocolError):
                await exchange(
                    client, "POST", f"{origin}/v1", {"X-Note": "a\r\nX-Admin: 1"}, b"", **TIMEOUTS
                )
            await asyncio.sleep(0.1)
        await client.aclose()

    run(scenario())
    assert received == []


def test_leaving_a_stream_early_closes_its_connection(run: Runner) -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        client = wire()
        async with upstream(seen) as origin:
            response = await client.open("GET", f"{origin}/endless", {}, b"", **TIMEOUTS)
            try:
                async for _ in response.chunks():
                    break
            finally:
                client.finish(response)
            for _ in range(100):
                if seen.get("reader_left"):
                    break
                await asyncio.sleep(0.02)
        await client.aclose()

    run(scenario())
    assert seen.get("reader_left") is True


def test_a_large_chunked_body_arrives_whole_through_a_slow_reader(run: Runner) -> None:
    async def scenario() -> bytes:
        client = wire()
        parts = []
        async with upstream({}) as origin:
            response = await client.open("GET", f"{origin}/big", {}, b"", **TIMEOUTS)
            try:
                async for data in response.chunks():
                    parts.append(data)
                    await asyncio.sleep(0.005)  # slower than the server: reading pauses
            finally:
                client.finish(response)
        await client.aclose()
        return b"".join(parts)

    body = run(scenario())
    assert hashlib.sha256(body).digest() == hashlib.sha256(BIG).digest()


def test_a_stream_arrives_as_it_is_sent(run: Runner) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"6\r\nfirst\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.5)
        writer.write(b"7\r\nsecond\n\r\n0\r\n\r\n")
        await writer.drain()

    async def scenario() -> list[tuple[bytes, float]]:
        client = wire()
        arrivals = []
        async with raw_upstream(handle) as origin:
            started = asyncio.get_running_loop().time()
            response = await client.open("POST", f"{origin}/v1", {}, b"{}", **TIMEOUTS)
            try:
                async for data in response.chunks():
                    arrivals.append((data, asyncio.get_running_loop().time() - started))
            finally:
                client.finish(response)
        await client.aclose()
        return arrivals

    arrivals = run(scenario())
    assert [data for data, _ in arrivals] == [b"first\n", b"second\n"]
    assert arrivals[0][1] < 0.4 <= arrivals[1][1]


def test_a_kept_connection_closed_by_the_server_is_replaced_and_the_call_resent(
    run: Runner,
) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + f"conn{n}".encode())
        await writer.drain()
        if n == 0:
            await read_request(reader)  # the second call arrives; close without answering

    assert run(two_calls(handle)) == [b"conn0", b"conn1"]


def test_a_call_the_server_may_have_processed_is_not_sent_again(run: Runner) -> None:
    requests = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        nonlocal requests
        await read_request(reader)
        requests += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await read_request(reader)
        requests += 1
        await asyncio.sleep(0.5)  # working on it, then the server dies

    async def scenario() -> None:
        client = wire()
        async with raw_upstream(handle) as origin:
            await exchange(client, "POST", f"{origin}/v1", {}, b"{}", **TIMEOUTS)
            with pytest.raises(httpx.ReadError):
                await exchange(client, "POST", f"{origin}/v1", {}, b"{}", **TIMEOUTS)
        await client.aclose()

    run(scenario())
    assert requests == 2


def test_an_answer_left_unread_in_the_buffer_does_not_leave_its_connection_in_the_pool(
    run: Runner,
) -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> int:
        client = wire()
        async with upstream(seen) as origin:
            response = await client.open("GET", f"{origin}/bulky", {}, b"", **TIMEOUTS)
            await asyncio.sleep(0.3)  # the whole answer arrives; reading pauses; nobody reads
            client.finish(response)
            status, _, body = await exchange(
                client, "GET", f"{origin}/bulky", {}, b"", connect_timeout=2, read_timeout=2
            )
        await client.aclose()
        assert len(body) == 300_000
        return status

    assert run(scenario()) == 200
    assert seen["peers"][0] != seen["peers"][1]


def test_a_body_ending_with_the_connection_is_whole_and_the_connection_not_kept(
    run: Runner,
) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n" + f"until close {n}".encode())
        await writer.drain()

    assert run(two_calls(handle)) == [b"until close 0", b"until close 1"]


def test_calls_beyond_the_connection_cap_wait_within_the_connect_timeout(
    run: Runner,
) -> None:
    async def scenario() -> None:
        client = wire(max_connections=1)
        async with upstream({}) as origin:
            first = asyncio.ensure_future(
                exchange(client, "GET", f"{origin}/slow", {}, b"", **TIMEOUTS)
            )
            await asyncio.sleep(0.1)
            with pytest.raises(httpx.PoolTimeout):
                await exchange(
                    client, "GET", f"{origin}/slow", {}, b"", connect_timeout=0.2, read_timeout=5
                )
            assert (await first)[2] == b"late"
        await client.aclose()

    run(scenario())


def test_a_provider_client_closes_its_kept_connections_when_done(run: Runner) -> None:
    closed = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        if await reader.read(100) == b"":
            closed.set()

    async def scenario() -> None:
        async with raw_upstream(handle) as origin:
            async with build_async_client() as client:
                await exchange(client.wire, "POST", f"{origin}/v1", {}, b"{}", **TIMEOUTS)
                assert not closed.is_set()  # kept for the next call
            await asyncio.wait_for(closed.wait(), 2)

    run(scenario())


def test_an_upstream_cookie_never_rides_along_with_a_later_call(run: Runner) -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with upstream(seen) as origin, build_async_client() as client:
            first = await client.get(f"{origin}/cookie")
            assert "upstream_session" in first.headers["Set-Cookie"]
            await client.get(f"{origin}/cookie")

    run(scenario())
    assert seen["cookies"] == [None, None]
