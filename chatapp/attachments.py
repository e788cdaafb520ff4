"""Files attached to a conversation: private documents of its owner, ingested like
company documents and searched only in the answers of the conversations they are
attached to (``rag.search.hybrid_search(attachments=...)``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from django.db import transaction
from django.utils import timezone

from chatapp.models import Conversation, ConversationFile
from orgs.models import User
from rag.ingestion.hashing import content_hash
from rag.models import Document
from rag.services import document_create, document_delete, document_duplicate_of
from rag.tasks import enqueue_ingestion

MAX_FILES: Final = 20
# A swept file must be older than this: a young one may be about to be attached.
ORPHAN_GRACE: Final = timedelta(hours=1)


class TooManyFiles(Exception):
    code = "too_many_files"


@transaction.atomic
def conversation_file_add(
    conversation: Conversation, *, filename: str, data: bytes, content_type: str = ""
) -> tuple[Document, bool]:
    """Attach a file; ``(document, created)``. Content its owner uploaded before (and
    that did not fail) is attached as that document, without a second ingestion."""
    owner: User = conversation.user
    Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
    if conversation.files.count() >= MAX_FILES:
        raise TooManyFiles(MAX_FILES)
    existing = document_duplicate_of(owner=owner, digest=content_hash(data), usable=True)
    if existing is not None:
        ConversationFile.objects.get_or_create(conversation=conversation, document=existing)
        return existing, False
    document = document_create(
        owner=owner,
        filename=filename,
        data=data,
        content_type=content_type,
        allow_duplicate=True,
        scope=Document.Scope.CHAT,
    )
    ConversationFile.objects.create(conversation=conversation, document=document)
    enqueue_ingestion(document.pk)
    return document, True


@transaction.atomic
def conversation_file_remove(conversation: Conversation, document_id: int) -> bool:
    """Detach a file; a chat file attached nowhere else is deleted with its chunks."""
    removed, _ = ConversationFile.objects.filter(
        conversation=conversation, document_id=document_id
    ).delete()
    if removed:
        chat_documents_orphaned_delete([document_id])
    return bool(removed)


@transaction.atomic
def chat_documents_orphaned_delete(document_ids: list[int] | None = None) -> int:
    """Delete the chat files no conversation holds: those of ``document_ids``, or
    (``None``) every such file older than ``ORPHAN_GRACE``, which also sweeps up after
    an interrupted purge."""
    orphans = Document.objects.filter(scope=Document.Scope.CHAT).exclude(
        pk__in=ConversationFile.objects.values("document_id")
    )
    if document_ids is None:
        orphans = orphans.filter(created_at__lt=timezone.now() - ORPHAN_GRACE)
    else:
        orphans = orphans.filter(pk__in=document_ids)
    count = 0
    for document in orphans.select_for_update(skip_locked=True):
        document_delete(document=document, actor=None)
        count += 1
    return count


def conversation_attachment_ids(conversation: Conversation) -> list[int]:
    return list(conversation.files.values_list("document_id", flat=True))


def conversation_files(conversation: Conversation) -> list[ConversationFile]:
    return list(conversation.files.select_related("document"))
