"""The web server runs daphne on uvloop's event loop (chatapp.serve)."""

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
        answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
    finally:
        process.stop()
    assert answer.status_code == 200
    assert answer.text == "uvloop.Loop"
