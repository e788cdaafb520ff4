"""Moving the stored chunks to another embedding model: each vector records its model
and dimension, so after ``RAG_EMBEDDING_MODEL`` changes, ``python manage.py
rag_reembed`` embeds every document's chunks again. A document stays searchable
throughout (by keyword, and by its old vectors under the old model); its new vectors
replace the old ones in one transaction."""

from __future__ import annotations

from collections.abc import Iterator

from django.db import transaction
from django.db.models import Q, QuerySet

from providers import gateway
from providers.errors import GatewayError
from providers.keys import Caller
from rag.errors import DocumentError
from rag.models import Chunk, Document
from rag.services import embedding_model_name, passages_embed


def documents_to_reembed(model: str, *, everything: bool = False) -> QuerySet[Document]:
    """Ready documents with a chunk not embedded by ``model`` (every ready one with
    ``everything``)."""
    ready = Document.objects.filter(status=Document.Status.READY)
    if everything:
        return ready.order_by("id")
    stale = Chunk.objects.filter(~Q(embedding_model=model) | Q(embedding__isnull=True))
    return ready.filter(pk__in=stale.values("document_id")).order_by("id")


def _passage_text(chunk: Chunk) -> str:
    """What ingestion embedded: the heading path, then the text."""
    return f"{chunk.heading_path}\n{chunk.text}" if chunk.heading_path else chunk.text


def document_reembed(
    document: Document, *, model: str | None = None, caller: Caller = gateway.SYSTEM_CALLER
) -> int:
    """Embed ``document``'s chunks with ``model`` (default: the configured one) and store
    the vectors in one transaction; the number of chunks. Gateway errors propagate
    and leave the old vectors in place."""
    model = model or embedding_model_name()
    chunks = list(
        Chunk.objects.filter(document=document)
        .order_by("ordinal")
        .only("id", "text", "heading_path")
    )
    vectors = passages_embed([_passage_text(c) for c in chunks], model=model, caller=caller)
    with transaction.atomic():
        for chunk, vector in zip(chunks, vectors, strict=True):
            chunk.embedding = vector
            chunk.embedding_model = model
            chunk.embedding_dim = len(vector)
        Chunk.objects.bulk_update(
            chunks, ["embedding", "embedding_model", "embedding_dim"], batch_size=500
        )
    return len(chunks)


def reembed_all(
    *, model: str | None = None, everything: bool = False
) -> Iterator[tuple[Document, int, Exception | None]]:
    """``document_reembed`` for each document that needs it; yields each document with
    its number of chunks and the error it met (None when done), and goes on."""
    model = model or embedding_model_name()
    for document in documents_to_reembed(model, everything=everything).iterator():
        try:
            count = document_reembed(document, model=model)
        except (DocumentError, GatewayError) as error:
            yield document, 0, error
            continue
        yield document, count, None
