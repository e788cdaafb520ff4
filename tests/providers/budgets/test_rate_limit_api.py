"""Rate limits through the /v1 API, shared by two web processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from chatapp.devstack.processes import free_port
from providers.keys import virtual_key_create
from providers.models import Deployment
from tests.conftest import child_env, start_daphne
from tests.personas import Personas

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def second_daphne(
    live_daphne: str, django_db_blocker: object, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        env = child_env()
    log = tmp_path_factory.mktemp("daphne2") / "daphne.log"
    process = start_daphne(port, env, log)
    yield f"http://127.0.0.1:{port}"
    process.stop()


def test_a_key_rpm_holds_across_two_web_processes_with_retry_after(
    live_daphne: str,
    second_daphne: str,
    personas: Personas,
    deployment_factory: Callable[..., Deployment],
) -> None:
    deployment_factory("limited-model")
    key = virtual_key_create(user=personas.member, rpm=4).plaintext
    headers = {"Authorization": f"Bearer {key}", "Accept-Language": "en-US,en;q=0.9"}
    body = {"model": "limited-model", "messages": [{"role": "user", "content": "안녕"}]}
    statuses = []
    refused: httpx.Response | None = None
    for index in range(8):
        base = live_daphne if index % 2 == 0 else second_daphne
        response = httpx.post(f"{base}/v1/chat/completions", json=body, headers=headers, timeout=20)
        statuses.append(response.status_code)
        if response.status_code == 429 and refused is None:
            refused = response
    assert statuses.count(200) == 4, statuses
    assert refused is not None
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
    assert "4 per minute" in error["message"]
