"""The web server runs daphne on uvloop's event loop (chatapp.serve), and daphne's
tuning keeps what requests see (chatapp.daphne_tuning)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx

from chatapp.devstack.processes import ManagedProcess, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


def test_daphne_serves_on_uvloop(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    process = ManagedProcess.start(
        "serve",
        [
            sys.executable,
            "-m",
            "chatapp.serve",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "tests.chatapp.loop_probe:app",
        ],
        env=dict(os.environ),
        log=log,
        cwd=ROOT,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=30, process=process.process, name="serve", log=log)
        with httpx.Client(timeout=10) as client:  # two requests on one connection
            answers = [client.get(f"http://127.0.0.1:{port}/").json() for _ in range(2)]
    finally:
        process.stop()
    for answer in answers:
        assert answer["loop"] == "uvloop.Loop"
        # the connection's own address, asked once per connection
        assert answer["server"] == ["127.0.0.1", port]
