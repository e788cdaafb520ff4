"""The web server runs daphne on uvloop's event loop (chatapp.serve), and daphne's
tuning keeps what requests see (chatapp.daphne_tuning)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from chatapp.devstack.processes import free_port
from tests.conftest import start_daphne


def test_daphne_serves_on_uvloop(tmp_path: Path) -> None:
    port = free_port()
    process = start_daphne(
        port, dict(os.environ), tmp_path / "serve.log", app="tests.chatapp.loop_probe:app"
    )
    try:
        with httpx.Client(timeout=10) as client:  # two requests on one connection
            answers = [client.get(f"http://127.0.0.1:{port}/").json() for _ in range(2)]
    finally:
        process.stop()
    for answer in answers:
        assert answer["loop"] == "uvloop.Loop"
        # the connection's own address, asked once per connection
        assert answer["server"] == ["127.0.0.1", port]
