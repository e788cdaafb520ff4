"""Turn org-layer signals into realtime events for the user's open pages."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from chatapp.events import send_event_now
from orgs.signals import user_access_revoked, user_permissions_changed
from providers.budgets.signals import notices_created


@receiver(user_access_revoked)
def close_sockets_of_revoked_user(sender: Any, user_id: int, reason: str, **kwargs: Any) -> None:
    send_event_now(user_id, {"type": "session.revoked", "reason": reason})


@receiver(user_permissions_changed)
def tell_pages_permissions_changed(sender: Any, user_id: int, **kwargs: Any) -> None:
    send_event_now(user_id, {"type": "permissions.changed"})


@receiver(notices_created)
def show_new_notices(sender: Any, user_ids: list[int], title: str, **kwargs: Any) -> None:
    for user_id in user_ids:
        send_event_now(user_id, {"type": "notice.show", "level": "warning", "text": title})
