"""Who may see and change a conversation: its owner only (R3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatapp.models import Conversation, Message
from orgs.errors import AccessDenied

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from orgs.models import User


def access_conversation(
    user: User | AnonymousUser, conversation_id: int | str, *, include_deleted: bool = False
) -> Conversation:
    """The user's own conversation, or AccessDenied (rendered as 404)."""
    if not user.is_authenticated or not user.is_active:
        raise AccessDenied("No such conversation")
    try:
        queryset = Conversation.objects.filter(user_id=user.pk)
        if not include_deleted:
            queryset = queryset.filter(deleted_at__isnull=True)
        return queryset.get(pk=int(conversation_id))
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise AccessDenied("No such conversation") from None


def access_message(conversation: Conversation, message_id: int | str | None) -> Message:
    try:
        return conversation.messages.get(pk=int(message_id or 0))
    except (Message.DoesNotExist, ValueError, TypeError):
        raise AccessDenied("No such message") from None


def conversation_for_socket(user: User, conversation_id: int | str) -> Conversation:
    """For a long-lived socket: the user's state is read with the conversation (one
    query), so a deactivation or a removal of access takes effect on the very next
    event."""
    try:
        return Conversation.objects.get(
            pk=int(conversation_id),
            user_id=user.pk,
            user__is_active=True,
            deleted_at__isnull=True,
        )
    except (Conversation.DoesNotExist, ValueError, TypeError):
        raise AccessDenied("No such conversation") from None
