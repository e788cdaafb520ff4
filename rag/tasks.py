"""Celery tasks of company knowledge (R13: thin, idempotent, enqueued on commit)."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from orgs.models import User
from providers.errors import ProviderError
from providers.keys import Caller, caller_for_user
from rag.models import Document
from rag.services import document_ingest


def ingestion_caller(document: Document) -> Caller:
    """Embedding calls are metered to the document's owner and their department."""
    owner = User.objects.filter(pk=document.owner_id).first()
    if owner is None:
        return Caller(user_id=document.owner_id, source="rag")
    return caller_for_user(owner, source="rag")


@shared_task(
    name="rag.ingest_document",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    autoretry_for=(ProviderError,),
    retry_backoff=5,
    retry_backoff_max=300,
)
def ingest_document(self: object, document_id: int) -> str:
    """Parse, chunk, embed and index one document (one at a time per worker process).

    Idempotent: re-running replaces the chunks in one transaction, so a worker
    killed mid-document leaves nothing half-indexed and the redelivered task
    (acks_late, rejected on worker loss) starts over. Transient gateway failures
    are retried with exponential backoff (5 s up to 5 min, 5 times); a parse
    failure is final and recorded on the row. Time limit: CELERY_TASK_TIME_LIMIT.
    """
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return "gone"
    result = document_ingest(document_id, caller=ingestion_caller(document))
    return result.status if result is not None else "gone"


def enqueue_ingestion(document_id: int) -> None:
    """Queue the ingestion once the upload's transaction has committed (R4)."""
    transaction.on_commit(lambda: ingest_document.delay(document_id))
