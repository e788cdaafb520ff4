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


def test_daphne_lets_go_of_finished_requests_at_once(tmp_path: Path) -> None:
    """daphne's own sweep runs once a second; until then every finished request stayed
    alive. Now only the request asking is in the table, and what an application raises
    after its response is still logged."""
    port = free_port()
    log = tmp_path / "serve.log"
    process = start_daphne(port, dict(os.environ), log, app="tests.chatapp.reap_probe:app")
    try:
        with httpx.Client(timeout=10) as client:
            for _ in range(300):
                assert client.get(f"http://127.0.0.1:{port}/").status_code == 200
            assert client.get(f"http://127.0.0.1:{port}/fail").status_code == 200
            table = client.get(f"http://127.0.0.1:{port}/table").json()
    finally:
        process.stop()
    assert table == {"held": 1, "finished": 0}
    assert "Exception inside application: probe failure after the response" in log.read_text()
