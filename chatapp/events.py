"""Realtime events sent to users' open pages, typed (R5), sent only after commit (R4)."""

from __future__ import annotations

import asyncio
import threading
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


class PermissionsChangedEvent(TypedDict):
    type: Literal["permissions.changed"]


UserEvent = NoticeEvent | SessionRevokedEvent | PermissionsChangedEvent


def user_group_name(user_id: int) -> str:
    return f"user.{user_id}"


def conversation_group_name(conversation_id: int) -> str:
    return f"conversation.{conversation_id}"


class MessageStartedEvent(TypedDict):
    type: Literal["message.started"]
    message_id: int
    parent_id: int
    user_message_id: int
    model: str


class MessageDeltaEvent(TypedDict):
    type: Literal["message.delta"]
    message_id: int
    offset: int  # code points already sent before this text
    text: str


class MessageDoneEvent(TypedDict):
    type: Literal["message.done"]
    message_id: int
    status: str
    length: int
    error_code: str
    error_text: str


def send_event_now(user_id: int, event: UserEvent) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    send = async_to_sync(layer.group_send)
    message = {"type": "user.event", "event": dict(event)}
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        send(user_group_name(user_id), message)
        return
    # Sync code running on a thread that also runs an event loop cannot block on
    # async_to_sync there; hand the send to a short-lived thread instead.
    worker = threading.Thread(target=send, args=(user_group_name(user_id), message))
    worker.start()
    worker.join(timeout=10)


def send_event_on_commit(user_id: int, event: UserEvent) -> None:
    transaction.on_commit(lambda: send_event_now(user_id, event))
