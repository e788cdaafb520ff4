from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.test import Client, override_settings

from chatapp.devstack.redis import start_redis
from chatapp.health import WORKER_HEARTBEAT_KEY
from chatapp.tasks import worker_heartbeat


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_redis_answer(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


@pytest.mark.django_db
def test_healthz_names_redis_when_it_is_down(client: Client, tmp_path: Path) -> None:
    # given a Redis of our own that we then stop
    process, port = start_redis(tmp_path / "redis", persist=False)
    process.stop()
    # when
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0"):
        response = client.get("/healthz")
    # then
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["redis"]
    assert body["checks"] == {"database": "ok", "redis": "unavailable"}


@pytest.mark.django_db
def test_healthz_answers_while_redis_comes_back(client: Client, tmp_path: Path) -> None:
    # given a Redis that is running
    process, port = start_redis(tmp_path / "redis", persist=False)
    try:
        with override_settings(REDIS_URL=f"redis://127.0.0.1:{port}/0"):
            assert client.get("/healthz").status_code == 200
    finally:
        process.stop()


@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_the_heartbeat(client: Client, celery_worker_process: object) -> None:
    # given no heartbeat yet
    from django.core.cache import cache

    cache.delete(WORKER_HEARTBEAT_KEY)
    assert client.get("/healthz").json()["info"]["worker"] == "unknown"
    # when the task goes through Redis to the worker process
    before = time.time()
    recorded = worker_heartbeat.delay().get(timeout=60)
    # then the worker ran it and /healthz sees it
    assert recorded >= before
    assert client.get("/healthz").json()["info"]["worker"] == "ok"
