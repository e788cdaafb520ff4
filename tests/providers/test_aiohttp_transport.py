"""The provider client (providers.http): over aiohttp's connections, the bytes on the
wire are the ones httpx built and failures are httpx's errors; it keeps no cookies.
Model calls take its ``wire`` (no httpx objects), with the same guarantees."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web

from chatapp.devstack.processes import free_port
from providers.aiohttp_transport import finish
from providers.http import build_async_client
from tests.aio import run


@asynccontextmanager
async def upstream(seen: dict[str, Any]) -> AsyncIterator[str]:
    async def signed(request: web.Request) -> web.Response:
        seen["path"] = request.raw_path
        seen["headers"] = [(k.decode(), v.decode()) for k, v in request.raw_headers]
        seen["body"] = await request.read()
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

    async def cookie_jar(request: web.Request) -> web.Response:
        seen.setdefault("cookies", []).append(request.headers.get("Cookie"))
        response = web.Response(text="ok")
        response.set_cookie("upstream_session", "caller-a")
        return response

    app = web.Application()
    app.router.add_get("/cookie", cookie_jar)
    app.router.add_post("/cookie", cookie_jar)
    app.router.add_post("/model/{model}/converse", signed)
    app.router.add_get("/slow", slow)
    app.router.add_get("/endless", endless)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "localhost", port).start()
    try:
        # a host name, not an address: cookie jars keep no cookies for addresses
        yield f"http://localhost:{port}"
    finally:
        await runner.cleanup()


def test_the_request_goes_out_as_httpx_built_it_and_the_answer_is_decoded() -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> httpx.Response:
        async with upstream(seen) as origin, build_async_client() as client:
            return await client.post(
                f"{origin}/model/anthropic.claude-v1%3A0/converse",
                headers={"X-Amz-Date": "20261128T000000Z", "Content-Type": "application/json"},
                content=b'{"q": 1}',
            )

    response = run(scenario())
    assert response.status_code == 200
    assert response.text == "안녕"  # gzip, decoded by httpx
    # the signed path is not re-encoded, header names keep their case
    assert seen["path"] == "/model/anthropic.claude-v1%3A0/converse"
    assert ("X-Amz-Date", "20261128T000000Z") in seen["headers"]
    assert seen["body"] == b'{"q": 1}'


def test_a_silent_upstream_is_a_read_timeout_and_a_closed_port_a_connect_error() -> None:
    async def scenario() -> None:
        async with upstream({}) as origin, build_async_client() as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(f"{origin}/slow", timeout=httpx.Timeout(0.2))
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://127.0.0.1:{free_port()}/")

    run(scenario())


def test_leaving_a_stream_early_closes_its_connection() -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with upstream(seen) as origin, build_async_client() as client:
            async with client.stream("GET", f"{origin}/endless") as response:
                async for _ in response.aiter_raw():
                    break
            for _ in range(100):
                if seen.get("reader_left"):
                    return
                await asyncio.sleep(0.02)

    run(scenario())
    assert seen.get("reader_left") is True


def test_an_upstream_cookie_never_rides_along_with_a_later_call() -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with upstream(seen) as origin, build_async_client() as client:
            first = await client.get(f"{origin}/cookie")
            assert "upstream_session" in first.headers["Set-Cookie"]
            await client.get(f"{origin}/cookie")

    run(scenario())
    assert seen["cookies"] == [None, None]


WIRE_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_read=5)


def test_a_model_call_on_the_wire_goes_out_as_httpx_would_send_it() -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> tuple[int, str]:
        async with upstream(seen) as origin, build_async_client() as client:
            status, _headers, body = await client.wire.exchange(
                "POST",
                f"{origin}/model/anthropic.claude-v1%3A0/converse",
                {"X-Amz-Date": "20261128T000000Z", "Content-Type": "application/json"},
                b'{"q": 1}',
                WIRE_TIMEOUT,
            )
            return status, body.decode()

    assert run(scenario()) == (200, "안녕")  # gzip, decoded
    assert seen["path"] == "/model/anthropic.claude-v1%3A0/converse"
    assert ("X-Amz-Date", "20261128T000000Z") in seen["headers"]
    assert seen["body"] == b'{"q": 1}'

    async def unencoded() -> None:
        async with upstream(seen) as origin, build_async_client() as client:
            await client.wire.exchange(
                "POST", f"{origin}/model/a b/converse", {}, b"{}", WIRE_TIMEOUT
            )

    run(unencoded())
    assert seen["path"] == "/model/a%20b/converse"  # encoded as httpx encodes it


def test_the_wire_fails_with_httpx_errors() -> None:
    async def scenario() -> None:
        async with upstream({}) as origin, build_async_client() as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.wire.exchange(
                    "GET", f"{origin}/slow", {}, b"", aiohttp.ClientTimeout(sock_read=0.2)
                )
            with pytest.raises(httpx.ConnectError):
                await client.wire.exchange(
                    "GET", f"http://127.0.0.1:{free_port()}/", {}, b"", WIRE_TIMEOUT
                )

    run(scenario())


def test_leaving_a_stream_on_the_wire_early_closes_its_connection() -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with upstream(seen) as origin, build_async_client() as client:
            response = await client.wire.open("GET", f"{origin}/endless", {}, b"", WIRE_TIMEOUT)
            try:
                async for _ in response.content.iter_any():
                    break
            finally:
                finish(response)
            for _ in range(100):
                if seen.get("reader_left"):
                    return
                await asyncio.sleep(0.02)

    run(scenario())
    assert seen.get("reader_left") is True


def test_the_wire_keeps_no_cookies_either() -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> None:
        async with upstream(seen) as origin, build_async_client() as client:
            for _ in range(2):
                _status, headers, _ = await client.wire.exchange(
                    "POST", f"{origin}/cookie", {}, b"", WIRE_TIMEOUT
                )
                assert "upstream_session" in headers["Set-Cookie"]

    run(scenario())
    assert seen["cookies"] == [None, None]
