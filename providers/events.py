"""Gateway events shared by every process through Redis pub/sub.

Each process keeps hot state in memory (virtual keys, the models
configuration, cooldowns) and listens here for changes, so a revocation or a
cooldown decided by one process takes effect in all of them at once without a
Redis round trip on every request.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypedDict

from django.db import transaction

from providers.redis_clients import sync_redis

CHANNEL = "gateway:events"


class KeysChanged(TypedDict):
    type: Literal["keys.changed"]


class ConfigChanged(TypedDict):
    type: Literal["config.changed"]


class BudgetsChanged(TypedDict):
    """Budgets, rate limits or the department tree changed."""

    type: Literal["budgets.changed"]


class PiiPolicyChanged(TypedDict):
    type: Literal["pii.changed"]


class VaultChanged(TypedDict):
    """An own provider key was added or removed."""

    type: Literal["vault.changed"]


class CooldownStarted(TypedDict):
    type: Literal["cooldown.started"]
    deployment_id: int
    until: float


GatewayEvent = (
    KeysChanged | ConfigChanged | BudgetsChanged | PiiPolicyChanged | VaultChanged | CooldownStarted
)


def publish_now(event: GatewayEvent) -> None:
    client = sync_redis(socket_timeout=2, socket_connect_timeout=2)
    try:
        client.publish(CHANNEL, json.dumps(event))
    finally:
        client.close()


def publish_on_commit(event: GatewayEvent) -> None:
    transaction.on_commit(lambda: publish_now(event))


def decode(raw: Any) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None
