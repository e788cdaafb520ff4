"""Which deployments are resting right now, read from where the router keeps it.

The router (``providers.router.note_failure``) counts retryable failures in
``gateway:fails:<id>`` and starts a cooldown by setting ``gateway:cooldown:<id>``
with the cooldown as its expiry; every process follows that key. Each start is
also logged in a sorted set kept for a week, so the view counts them per window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import redis
from django.utils import timezone

from providers.redis_clients import sync_redis
from providers.runtime import COOLDOWN_KEY, COOLDOWN_LOG_KEY, FAILS_KEY

if TYPE_CHECKING:
    from collections.abc import Iterable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CooldownState:
    until: datetime | None  # None: not cooling down
    remaining_seconds: float
    recent_failures: int  # retryable failures counted toward the next cooldown
    started_in_window: int = 0  # cooldowns started since the window began

    @property
    def cooling(self) -> bool:
        return self.until is not None


def cooldown_states(
    deployment_ids: Iterable[int], *, since: datetime | None = None
) -> dict[int, CooldownState] | None:
    """The state of each deployment (and the cooldowns it started since ``since``), or
    None when Redis cannot be read."""
    ids = list(deployment_ids)
    if not ids:
        return {}
    client = sync_redis(socket_timeout=2, socket_connect_timeout=2)
    try:
        with client.pipeline(transaction=False) as pipe:
            for deployment_id in ids:
                pipe.pttl(COOLDOWN_KEY.format(deployment_id))
                pipe.get(FAILS_KEY.format(deployment_id))
            pipe.zrangebyscore(COOLDOWN_LOG_KEY, since.timestamp() if since else "-inf", "+inf")
            replies = pipe.execute()
    except redis.RedisError:
        logger.warning("could not read deployment cooldowns from Redis")
        return None
    finally:
        client.close()
    now = timezone.now()
    started: dict[int, int] = {}
    for member in replies[-1]:
        text = member.decode() if isinstance(member, bytes) else str(member)
        owner = _int(text.split(":", 1)[0])
        started[owner] = started.get(owner, 0) + 1
    states: dict[int, CooldownState] = {}
    for index, deployment_id in enumerate(ids):
        ttl, fails = replies[2 * index], replies[2 * index + 1]
        # PTTL: -2 when there is no cooldown, -1 never (the key is always set with an expiry).
        remaining = ttl / 1000 if isinstance(ttl, int) and ttl > 0 else 0.0
        states[deployment_id] = CooldownState(
            until=now + timedelta(seconds=remaining) if remaining else None,
            remaining_seconds=remaining,
            recent_failures=_int(fails),
            started_in_window=started.get(deployment_id, 0),
        )
    return states


def _int(raw: object) -> int:
    if not isinstance(raw, bytes | str | int):
        return 0
    try:
        return int(raw)
    except ValueError:
        return 0
