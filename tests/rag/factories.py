"""Documents with chunks for the ACL and search tests, without the pipeline.

Chunk vectors are the fake upstream's own (``fake_embedding``), so a query equal
to a chunk's text is at cosine distance 0 from it through the real gateway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from orgs.models import User
from providers.models import Deployment
from rag.ingestion.chunking import Chunk as TextChunk
from rag.models import EMBEDDING_DIM, Document
from rag.services import acl_parse, document_chunks_store, document_create
from tests.fake_upstream.server import fake_embedding

EMBEDDING_MODEL = "embedding"


def make_document(
    owner: User,
    texts: list[str],
    *,
    title: str = "문서",
    acl: dict[str, Any] | None = None,
    status: str = Document.Status.READY,
    pages: list[int | None] | None = None,
) -> Document:
    """A document of ``owner`` with one chunk per text, indexed and ``status``."""
    body = "\n\n".join(texts).encode()
    document = document_create(
        owner=owner,
        filename=f"{title}.txt",
        data=body,
        title=title,
        acl=acl_parse(acl),
        allow_duplicate=True,
    )
    chunks = [
        TextChunk(text=t, page=(pages[i] if pages else None), heading_path=[], kind="paragraph")
        for i, t in enumerate(texts)
    ]
    document_chunks_store(
        document=document,
        chunks=chunks,
        vectors=[fake_embedding(t, EMBEDDING_DIM) for t in texts],
        model=EMBEDDING_MODEL,
        dim=EMBEDDING_DIM,
    )
    Document.objects.filter(pk=document.pk).update(status=status, progress=100)
    document.refresh_from_db()
    return document


@pytest.fixture
def media_root(tmp_path: Path) -> Iterator[Path]:
    with override_settings(MEDIA_ROOT=str(tmp_path / "media")):
        yield tmp_path / "media"


@pytest.fixture
def embedding_deployment(deployment_factory: Callable[..., Deployment]) -> Iterator[Deployment]:
    with override_settings(RAG_EMBEDDING_MODEL=EMBEDDING_MODEL):
        yield deployment_factory(EMBEDDING_MODEL, mode="embedding")
