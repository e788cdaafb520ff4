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
    conversations = Conversation.objects.filter(
        user=user, deleted_at__isnull=not deleted, comparison__isnull=True
    )
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


def branch_leaf(message: Message) -> Message:
    """The newest leaf under ``message``: where the branch through it currently ends."""
    node = message
    while True:
        child = node.children.order_by("-created_at", "-id").first()
        if child is None:
            return node
        node = child


def sibling_neighbours(
    conversation: Conversation, path: list[Message]
) -> dict[int, dict[str, int | None]]:
    """For each message on the path: its 1-based position among its siblings (the
    regenerations and edits), their count, and the previous and next sibling."""
    siblings: dict[int | None, list[int]] = {}
    for message_id, parent_id in conversation.messages.order_by("created_at", "id").values_list(
        "id", "parent_id"
    ):
        siblings.setdefault(parent_id, []).append(message_id)
    result: dict[int, dict[str, int | None]] = {}
    for m in path:
        ids = siblings[m.parent_id]
        i = ids.index(m.pk)
        result[m.pk] = {
            "position": i + 1,
            "count": len(ids),
            "previous": ids[i - 1] if i > 0 else None,
            "next": ids[i + 1] if i + 1 < len(ids) else None,
        }
    return result
