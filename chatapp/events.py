"""Realtime events sent to users' open pages, typed (R5), sent only after commit (R4)."""

from __future__ import annotations

import logging
from typing import Literal, TypedDict

import redis
from django.db import transaction

from chatapp.fanout import channel_name, event_data, user_topic
from chatapp.runtime import get_chat_runtime

logger = logging.getLogger(__name__)


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
    """Publish ``event`` to every open page of the user, in every web process
    (``chatapp.fanout``); callable from any sync code, Celery tasks included."""
    try:
        get_chat_runtime().sync_redis().publish(
            channel_name(user_topic(user_id)), event_data(dict(event))
        )
    except redis.RedisError:
        # The change itself is stored; open pages learn it on their next request.
        logger.warning("event %s for user %s not delivered", event["type"], user_id)


def send_event_on_commit(user_id: int, event: UserEvent) -> None:
    transaction.on_commit(lambda: send_event_now(user_id, event))
