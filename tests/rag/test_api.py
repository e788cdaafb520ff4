"""Contract 6 over HTTP, with a real Celery worker doing the ingestion."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.test import Client

from chatapp.devstack.processes import ManagedProcess
from providers.keys import virtual_key_create
from providers.models import Deployment
from tests.personas import Personas

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"


def bearer(client: Client, user_key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {user_key}"}


def wait_ready(client: Client, document_id: int, headers: dict[str, str]) -> dict[str, object]:
    deadline = time.monotonic() + 60
    body: dict[str, object] = {}
    while time.monotonic() < deadline:
        body = client.get(f"/api/rag/documents/{document_id}", headers=headers).json()
        if body["status"] in ("ready", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"still {body} after 60 s")


@pytest.fixture
def embedder(deployment_factory: Callable[..., Deployment]) -> Deployment:
    return deployment_factory("embedding", mode="embedding")


def test_upload_ingest_and_search_with_acl(
    client: Client, personas: Personas, embedder: Deployment, celery_worker_process: ManagedProcess
) -> None:
    # given an HR document shared with HR only, uploaded with an HR member's key
    key = virtual_key_create(user=personas.outsider).plaintext  # the outsider persona works in HR
    headers = bearer(client, key)
    with (SAMPLES / "korean.md").open("rb") as handle:
        response = client.post(
            "/api/rag/documents",
            {"file": handle, "title": "연차 규정", "acl": json.dumps({"departments": ["HR"]})},
            headers=headers,
        )
    # then 201 with the contract's fields, and the worker makes it ready
    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == {"id", "title", "status"}
    assert created["status"] == "queued"
    status = wait_ready(client, created["id"], headers)
    assert status["status"] == "ready", status
    assert status["progress"] == 100
    # when HR searches in Korean
    found = client.post(
        "/api/rag/search",
        {"query": "미사용 연차 이월", "k": 3},
        content_type="application/json",
        headers=headers,
    ).json()
    assert found["results"]
    assert set(found["results"][0]) == {"document_id", "title", "text", "score", "page"}
    assert found["results"][0]["document_id"] == created["id"]
    # then nobody outside HR finds it or can read it, session or key
    client.force_login(personas.member)
    assert (
        client.post(
            "/api/rag/search",
            {"query": "미사용 연차 이월", "k": 3},
            content_type="application/json",
        ).json()["results"]
        == []
    )
    assert client.get(f"/api/rag/documents/{created['id']}").status_code == 404


def test_bad_input_gets_clear_errors_and_stores_nothing(
    client: Client, personas: Personas, embedder: Deployment
) -> None:
    from rag.models import Document

    headers = bearer(client, virtual_key_create(user=personas.member).plaintext)
    assert (
        client.post("/api/rag/documents", {}, headers=headers).json()["error"]["code"]
        == "file_required"
    )
    with (SAMPLES / "korean.md").open("rb") as handle:
        response = client.post(
            "/api/rag/documents",
            {"file": handle, "acl": '{"departments": ["NOPE"]}'},
            headers=headers,
        )
    assert response.status_code == 400
    assert "NOPE" in response.json()["error"]["message"]
    assert (
        client.post(
            "/api/rag/search", {"query": ""}, content_type="application/json", headers=headers
        ).status_code
        == 400
    )
    assert (
        client.get("/api/rag/documents/1", headers={"authorization": "Bearer sk-wrong"}).status_code
        == 401
    )
    assert not Document.objects.exists()


def test_session_posts_need_the_csrf_token(personas: Personas, embedder: Deployment) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.member)
    response = client.post(
        "/api/rag/search", {"query": "연차", "k": 3}, content_type="application/json"
    )
    assert response.status_code == 403
