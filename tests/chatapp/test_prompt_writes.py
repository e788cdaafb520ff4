"""daphne's HTTP connections send at once, hold response headers for the body, and keep
every byte in order when the socket takes less than it is given; websocket
connections keep Twisted's buffered writes (chatapp.prompt_writes). Checked against a
real daphne."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest

from chatapp.devstack.processes import free_port
from tests.aio import run
from tests.chatapp.write_probe import BLOCK
from tests.conftest import start_daphne


@pytest.fixture(scope="module")
def probe_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("prompt-writes") / "daphne.log"
    process = start_daphne(port, dict(os.environ), log, app="tests.chatapp.write_probe:app")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def test_http_connections_are_prompt_and_without_nagle(probe_url: str) -> None:
    with httpx.Client(base_url=probe_url, timeout=10) as client:
        transports = client.get("/transports").json()
    assert all(t["class"] == "PromptWriteServer" and t["nodelay"] for t in transports)
    assert {"class": "PromptWriteServer", "nodelay": True, "prompt": True} in transports


def test_websocket_connections_keep_buffered_writes(probe_url: str) -> None:
    async def report_over_a_websocket() -> list[Any]:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(probe_url.replace("http", "ws", 1) + "/ws") as ws,
        ):
            replies = []
            for _ in range(3):
                await ws.send_str("report")
                replies.append(json.loads((await ws.receive(timeout=5)).data))
            return replies

    for transports in run(report_over_a_websocket()):
        assert {"class": "PromptWriteServer", "nodelay": True, "prompt": False} in transports


def test_headers_go_out_before_a_body_that_comes_later(probe_url: str) -> None:
    # The stream's headers arrive while the app still waits; only then is it released.
    with (
        httpx.Client(base_url=probe_url, timeout=5) as client,
        client.stream("GET", "/headers-first") as response,
    ):
        assert response.status_code == 200
        assert client.get("/release").text == "released"
        assert response.read() == b"late body"


@pytest.mark.parametrize(
    ("method", "path", "status"), [("HEAD", "/", 200), ("GET", "/no-content", 204)]
)
def test_answers_without_a_body_arrive_and_keep_the_connection(
    probe_url: str, method: str, path: str, status: int
) -> None:
    with httpx.Client(base_url=probe_url, timeout=5) as client:
        for _ in range(3):  # the same kept connection each time
            response = client.request(method, path)
            assert response.status_code == status
            assert response.content == b""
        assert client.get("/").text == "hello"


def test_a_body_larger_than_the_socket_takes_arrives_whole_and_in_order(probe_url: str) -> None:
    received = bytearray()
    with httpx.Client(base_url=probe_url, timeout=30) as client:
        with client.stream("GET", "/large") as response:
            for n, piece in enumerate(response.iter_raw()):
                if n < 3:
                    time.sleep(0.2)  # a slow reader: the server's socket fills up
                received += piece
        assert client.get("/").text == "hello"  # the connection is still usable
    assert len(received) == 16 * len(BLOCK)
    assert bytes(received) == BLOCK * 16
