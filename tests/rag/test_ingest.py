"""The ingestion pipeline on the real sample documents, through the fake upstream."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rag.models import EMBEDDING_DIM, Chunk, Document
from rag.services import document_create, document_ingest
from tests.personas import Personas
from tests.rag.factories import EMBEDDING_MODEL, embedding_deployment, media_root

__all__ = ["embedding_deployment", "media_root"]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("media_root", "embedding_deployment"),
]


@pytest.mark.parametrize("name", ["korean.pdf", "korean.docx", "korean.md", "korean.pptx"])
def test_ingest_sample(personas: Personas, sample: Callable[[str], bytes], name: str) -> None:
    document = document_create(owner=personas.member, filename=name, data=sample(name))
    result = document_ingest(document.pk)
    assert result is not None
    assert (result.status, result.stage, result.progress, result.error) == ("ready", "", 100, "")
    chunks = list(Chunk.objects.filter(document=document).order_by("ordinal"))
    assert chunks
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert all(
        c.embedding_dim == EMBEDDING_DIM and c.embedding_model == EMBEDDING_MODEL for c in chunks
    )
    assert all(len(c.embedding) == EMBEDDING_DIM for c in chunks if c.embedding is not None)
    assert all(c.search_tokens for c in chunks)
    if name in ("korean.pdf", "korean.pptx"):
        assert result.page_count
        assert all(c.page is not None for c in chunks)


def test_corrupt_file_fails_with_message_and_no_chunks(personas: Personas) -> None:
    document = document_create(
        owner=personas.member, filename="broken.pdf", data=b"%PDF-1.7\n garbage"
    )
    result = document_ingest(document.pk)
    assert result is not None
    assert result.status == Document.Status.FAILED
    assert result.error
    assert not Chunk.objects.filter(document=document).exists()


def test_reingest_replaces_chunks(personas: Personas, sample: Callable[[str], bytes]) -> None:
    document = document_create(
        owner=personas.member, filename="korean.pdf", data=sample("korean.pdf")
    )
    document_ingest(document.pk)
    first = list(Chunk.objects.filter(document=document).values_list("ordinal", "text"))
    document_ingest(document.pk)
    again = list(Chunk.objects.filter(document=document).values_list("ordinal", "text"))
    assert again == first
    assert Chunk.objects.filter(document=document).count() == len(first)


def test_ingest_of_a_deleted_document_is_a_no_op() -> None:
    assert document_ingest(10**9) is None


def test_embedding_failure_marks_failed(personas: Personas, settings: object) -> None:
    settings.RAG_EMBEDDING_MODEL = "no-such-model"  # type: ignore[attr-defined]
    document = document_create(
        owner=personas.member, filename="a.md", data="# 제목\n\n본문".encode()
    )
    result = document_ingest(document.pk)
    assert result is not None and result.status == "failed" and result.error


@pytest.mark.usefixtures("require_tesseract")
def test_a_scan_goes_through_the_ocr_stage(
    personas: Personas, sample: Callable[[str], bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.services

    stages: list[str] = []
    real_progress = rag.services._progress

    def spy(document_id: int, **fields: object) -> None:
        if fields.get("stage"):
            stages.append(str(fields["stage"]))
        real_progress(document_id, **fields)

    monkeypatch.setattr(rag.services, "_progress", spy)
    scan = document_create(
        owner=personas.member, filename="korean_scan.png", data=sample("korean_scan.png")
    )
    result = document_ingest(scan.pk)
    assert result is not None and result.status == "ready"
    assert stages == ["parsing", "ocr", "chunking", "embedding"]
