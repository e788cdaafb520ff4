"""Reads on conversations and messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from chatapp.models import Conversation, Message

if TYPE_CHECKING:
    from orgs.models import User


def conversation_list_for_user(
    user: User, *, search: str = "", archived: bool = False, deleted: bool = False
) -> QuerySet[Conversation]:
    """The sidebar: pinned first, then most recent. Search looks in titles and in the
    text of every message (trigram indexes; Korean and English alike)."""
    conversations = Conversation.objects.filter(user=user, deleted_at__isnull=not deleted)
    if not deleted:
        conversations = conversations.filter(archived=archived)
    if search:
        matching = Message.objects.filter(conversation__user=user, content__icontains=search)
        conversations = conversations.filter(
            Q(title__icontains=search) | Q(pk__in=matching.values("conversation_id"))
        )
    return conversations.order_by("-pinned", "-updated_at")


def message_path(conversation: Conversation) -> list[Message]:
    """The branch on screen: from the first turn to the current leaf."""
    by_id = {m.pk: m for m in conversation.messages.all()}
    path: list[Message] = []
    node = by_id.get(conversation.current_leaf_id) if conversation.current_leaf_id else None
    while node is not None:
        path.append(node)
        node = by_id.get(node.parent_id) if node.parent_id else None
    path.reverse()
    return path


def sibling_positions(
    conversation: Conversation, path: list[Message]
) -> dict[int, tuple[int, int]]:
    """For each message on the path: its 1-based position among its siblings, and their count
    (the "2 / 3" navigation of regenerations and edits)."""
    siblings: dict[int | None, list[int]] = {}
    for message_id, parent_id in conversation.messages.order_by("created_at", "id").values_list(
        "id", "parent_id"
    ):
        siblings.setdefault(parent_id, []).append(message_id)
    return {m.pk: (siblings[m.parent_id].index(m.pk) + 1, len(siblings[m.parent_id])) for m in path}
