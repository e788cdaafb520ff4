"""No ledger row is lost for a request that succeeded, even when the server is
stopped gracefully right after answering."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from chatapp.devstack.processes import free_port
from providers.keys import virtual_key_create
from providers.models import Deployment, UsageRecord
from tests.conftest import child_env, start_daphne
from tests.personas import Personas

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[3]


def test_rows_buffered_at_shutdown_are_written(
    personas: Personas, deployment_factory: Callable[..., Deployment], tmp_path: Path
) -> None:
    # given a server of our own, and a key
    deployment = deployment_factory("durable")
    key = virtual_key_create(user=personas.member).plaintext
    port = free_port()
    # Rows wait a minute in the buffer: only the shutdown hook can write them.
    server = start_daphne(port, child_env(LEDGER_FLUSH_MS="60000"), tmp_path / "daphne.log")
    try:
        # when it answers 30 requests and is stopped at once
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}/v1",
            headers={"Authorization": f"Bearer {key}"},
            timeout=20,
        ) as client:
            for i in range(30):
                response = client.post(
                    "/chat/completions",
                    json={
                        "model": "durable",
                        "messages": [{"role": "user", "content": f"질문 {i}"}],
                    },
                )
                assert response.status_code == 200
        assert not UsageRecord.objects.filter(deployment_id=deployment.pk).exists()
        os.kill(server.process.pid, signal.SIGTERM)
        server.process.wait(20)
    finally:
        server.stop()  # also when the test failed: no server outlives it
    # then every answered request has its row
    rows = UsageRecord.objects.filter(deployment_id=deployment.pk, status="ok")
    assert rows.count() == 30
