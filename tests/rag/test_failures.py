"""A failed document says why in the reader's language; the contract-6 ``error`` stays
the English message, ``error_text`` is translated."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from rag.models import Document
from rag.services import document_create, document_ingest
from tests.personas import Personas
from tests.rag.factories import embedding_deployment, media_root

__all__ = ["embedding_deployment", "media_root"]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("media_root", "embedding_deployment"),
]


def test_a_damaged_file_fails_with_a_korean_reason(client: Client, personas: Personas) -> None:
    document = document_create(
        owner=personas.member, filename="보고서.pdf", data=b"%PDF-1.7 this is not a pdf"
    )
    failed = document_ingest(document.pk)
    assert failed is not None and failed.status == Document.Status.FAILED
    assert failed.error_code == "corrupt_document" and failed.error  # English, for scripts
    client.force_login(personas.member)
    page = client.get("/documents/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "파일이 손상되었거나 비어 있어 읽을 수 없습니다." in page
    body = client.get(f"/api/rag/documents/{document.pk}", HTTP_ACCEPT_LANGUAGE="ko").json()
    assert body["status"] == "failed" and body["error"] == failed.error
    assert body["error_text"] == "파일이 손상되었거나 비어 있어 읽을 수 없습니다."
    english = client.get(f"/api/rag/documents/{document.pk}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["error_text"] == "The file is damaged or empty and cannot be read."


def test_a_missing_embedding_model_is_named_as_such(client: Client, personas: Personas) -> None:
    document = document_create(
        owner=personas.member, filename="메모.txt", data="연차 규정".encode()
    )
    with override_settings(RAG_EMBEDDING_MODEL="no-such-model"):
        failed = document_ingest(document.pk)
    assert failed is not None and failed.status == Document.Status.FAILED
    assert failed.error_code  # the gateway error's code
    client.force_login(personas.member)
    page = client.get(f"/documents/{document.pk}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "임베딩 모델을 쓸 수 없습니다" in page
    # a later success clears the reason
    document_ingest(document.pk)
    document.refresh_from_db()
    assert document.status == Document.Status.READY
    assert document.error == "" and document.error_code == ""
