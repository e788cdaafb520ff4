"""Writes on conversations and messages. Permission is checked by the caller (R2)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from chatapp.attachments import chat_documents_orphaned_delete
from chatapp.models import Conversation, ConversationFile, Message
from chatapp.selectors import branch_leaf

if TYPE_CHECKING:
    from orgs.models import User
    from providers.types import Usage

RESTORE_DAYS = 30
TITLE_LENGTH = 60


@transaction.atomic
def conversation_create(*, user: User, model_name: str, system_prompt: str = "") -> Conversation:
    return Conversation.objects.create(
        user=user, model_name=model_name, system_prompt=system_prompt
    )


@transaction.atomic
def conversation_update(
    conversation: Conversation,
    *,
    title: str | None = None,
    pinned: bool | None = None,
    archived: bool | None = None,
    model_name: str | None = None,
    system_prompt: str | None = None,
    company_knowledge: bool | None = None,
) -> Conversation:
    changed = []
    for name, value in (
        ("title", title),
        ("pinned", pinned),
        ("archived", archived),
        ("model_name", model_name),
        ("system_prompt", system_prompt),
        ("company_knowledge", company_knowledge),
    ):
        if value is not None:
            setattr(conversation, name, value.strip() if isinstance(value, str) else value)
            changed.append(name)
    if changed:
        conversation.save(update_fields=[*changed, "updated_at"])
    return conversation


@transaction.atomic
def conversation_delete(conversation: Conversation) -> Conversation:
    """Moves it to the bin; it can be restored for RESTORE_DAYS, then it is purged."""
    conversation.deleted_at = timezone.now()
    conversation.save(update_fields=["deleted_at"])
    return conversation


@transaction.atomic
def conversation_restore(conversation: Conversation) -> Conversation:
    conversation.deleted_at = None
    conversation.save(update_fields=["deleted_at", "updated_at"])
    return conversation


def conversation_purge_expired(*, now: datetime | None = None) -> int:
    """Delete conversations in the bin for longer than RESTORE_DAYS, and the files
    attached to them that no other conversation holds."""
    cutoff = (now or timezone.now()) - timedelta(days=RESTORE_DAYS)
    with transaction.atomic():
        expired = Conversation.objects.filter(deleted_at__lt=cutoff)
        files = list(
            ConversationFile.objects.filter(conversation__in=expired).values_list(
                "document_id", flat=True
            )
        )
        deleted, _ = expired.delete()
        chat_documents_orphaned_delete(files)
    chat_documents_orphaned_delete()  # and any left by an earlier, interrupted run
    return deleted


def title_from_text(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


# Inside a turn's transaction no savepoint of its own (two round trips each): a failure
# rolls the whole turn back anyway.
@transaction.atomic(savepoint=False)
def user_message_add(conversation: Conversation, *, text: str, parent: Message | None) -> Message:
    """A user turn under ``parent`` (None: the first turn). Editing a message is adding
    a sibling: same parent, new text. The new turn becomes the branch on screen."""
    message = Message.objects.create(
        conversation=conversation, parent=parent, role=Message.Role.USER, content=text
    )
    conversation.current_leaf = message
    fields = ["current_leaf", "updated_at"]
    if not conversation.title:
        conversation.title = title_from_text(text)
        fields.append("title")
    conversation.save(update_fields=fields)
    return message


@transaction.atomic(savepoint=False)
def assistant_message_start(
    conversation: Conversation, *, parent: Message, model_name: str, worker: str
) -> Message:
    message = Message.objects.create(
        conversation=conversation,
        parent=parent,
        role=Message.Role.ASSISTANT,
        status=Message.Status.STREAMING,
        model_name=model_name,
        worker=worker,
        heartbeat_at=timezone.now(),
    )
    conversation.current_leaf = message
    conversation.save(update_fields=["current_leaf", "updated_at"])
    return message


def assistant_text_append(message_id: int, text: str) -> None:
    """Append a batch of streamed text in SQL, never rewriting what is stored (R20).
    An empty batch only refreshes the heartbeat."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE chatapp_message SET content = content || %s, heartbeat_at = now() "
            "WHERE id = %s AND status IN (%s, %s)",
            [text, message_id, Message.Status.STREAMING, Message.Status.INTERRUPTED],
        )


def assistant_texts_append(texts: Mapping[int, str]) -> None:
    """``assistant_text_append`` for many answers in one statement (each id once)."""
    if not texts:
        return
    values = ", ".join(["(%s::bigint, %s::text)"] * len(texts))
    params: list[int | str] = [item for pair in texts.items() for item in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE chatapp_message AS m SET content = m.content || v.text, heartbeat_at = now() "  # noqa: S608 - placeholders only
            f"FROM (VALUES {values}) AS v(id, text) "
            "WHERE m.id = v.id AND m.status IN (%s, %s)",
            [*params, Message.Status.STREAMING, Message.Status.INTERRUPTED],
        )


@transaction.atomic
def assistant_message_finish(
    message_id: int,
    *,
    status: str,
    tail: str = "",
    usage: Usage | None = None,
    cost_usd: Decimal = Decimal(0),
    ttft_ms: float | None = None,
    latency_ms: float | None = None,
    error_code: str = "",
    error_text: str = "",
) -> Message:
    """Store the last text and the outcome in one transaction, once."""
    message = Message.objects.select_for_update().get(pk=message_id)
    # A sweep may have marked a slow answer interrupted while its generator lived on.
    if message.status not in (Message.Status.STREAMING, Message.Status.INTERRUPTED):
        return message
    if tail:
        assistant_text_append(message_id, tail)
        message.content += tail  # the row is locked: what is stored now, without reading it
    message.status = status
    message.completed_at = timezone.now()
    message.ttft_ms, message.latency_ms, message.error_code = ttft_ms, latency_ms, error_code
    message.error_text = error_text[:500]
    if usage is not None:
        message.prompt_tokens, message.completion_tokens = (
            usage.prompt_tokens,
            usage.completion_tokens,
        )
    message.cost_usd = cost_usd
    message.save(
        update_fields=[
            "status",
            "completed_at",
            "ttft_ms",
            "latency_ms",
            "error_code",
            "error_text",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
        ]
    )
    if cost_usd:
        Conversation.objects.filter(pk=message.conversation_id).update(
            total_cost_usd=F("total_cost_usd") + cost_usd
        )
    return message


def streaming_messages_mark_interrupted(
    *, worker: str | None = None, stale_seconds: int | None = None
) -> int:
    """Messages whose generating process died: never shown as complete."""
    queryset = Message.objects.filter(status=Message.Status.STREAMING)
    if worker is not None:
        queryset = queryset.filter(worker=worker)
    if stale_seconds is not None:
        queryset = queryset.filter(
            heartbeat_at__lt=timezone.now() - timedelta(seconds=stale_seconds)
        )
    return queryset.update(status=Message.Status.INTERRUPTED, completed_at=timezone.now())


@transaction.atomic
def conversation_branch_select(conversation: Conversation, *, leaf: Message) -> Conversation:
    """Show the branch that ends at ``leaf`` (after choosing a sibling)."""
    conversation.current_leaf = leaf
    conversation.save(update_fields=["current_leaf"])
    return conversation


class MessageBusy(Exception):
    """The message, or a reply under it, is still being written."""


@transaction.atomic
def message_delete(conversation: Conversation, *, message: Message) -> Conversation:
    """Delete a message and every reply under it. When it was on the branch on screen,
    the branch moves to the newest remaining version at that place, else to the parent."""
    subtree = {message.pk}
    frontier = [message.pk]
    while frontier:
        frontier = list(Message.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        subtree.update(frontier)
    if Message.objects.filter(pk__in=subtree, status=Message.Status.STREAMING).exists():
        raise MessageBusy
    on_screen = conversation.current_leaf_id in subtree
    parent = message.parent
    message.delete()
    if on_screen:
        sibling = (
            Message.objects.filter(conversation=conversation, parent=parent)
            .order_by("-created_at", "-id")
            .first()
        )
        conversation.current_leaf = branch_leaf(sibling) if sibling is not None else parent
        conversation.save(update_fields=["current_leaf"])
    return conversation
