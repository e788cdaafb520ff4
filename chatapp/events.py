"""Realtime events sent to users' open pages, typed (R5), sent only after commit (R4)."""

from __future__ import annotations

from typing import Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


class NoticeEvent(TypedDict):
    type: Literal["notice.show"]
    level: Literal["info", "warning", "error"]
    text: str


class SessionRevokedEvent(TypedDict):
    type: Literal["session.revoked"]
    reason: str


UserEvent = NoticeEvent | SessionRevokedEvent


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}"


def send_event_now(user_id: int, event: UserEvent) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(
        user_group_name(user_id), {"type": "user.event", "event": dict(event)}
    )


def send_event_on_commit(user_id: int, event: UserEvent) -> None:
    transaction.on_commit(lambda: send_event_now(user_id, event))
