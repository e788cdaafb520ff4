"""Requests and tokens per minute, counted in Redis so every web process shares them.

Fixed one-minute windows (UTC minute boundaries): simple, exact across processes,
and the reset time a client is told in ``Retry-After`` is the real one. A call
takes one request and its estimated prompt tokens from every limit that applies,
atomically, or from none; the real token count is added when it is known.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from django.utils.translation import gettext

from providers.errors import GatewayError

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from providers.budgets.table import LimitRule

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60

ACQUIRE = """
local n, tokens = tonumber(ARGV[1]), tonumber(ARGV[2])
for i = 1, n do
  local rpm, tpm = tonumber(ARGV[1 + 2*i]), tonumber(ARGV[2 + 2*i])
  if rpm >= 0 then
    local used = tonumber(redis.call('GET', KEYS[2*i-1]) or '0')
    if used + 1 > rpm then return {i, 'rpm'} end
  end
  if tpm >= 0 then
    local used = tonumber(redis.call('GET', KEYS[2*i]) or '0')
    if used >= tpm or (used > 0 and used + tokens > tpm) then return {i, 'tpm'} end
  end
end
for i = 1, n do
  redis.call('INCR', KEYS[2*i-1])
  redis.call('EXPIRE', KEYS[2*i-1], 120)
  redis.call('INCRBY', KEYS[2*i], tokens)
  redis.call('EXPIRE', KEYS[2*i], 120)
end
return {0, 'ok'}
"""


class RateLimited(GatewayError):
    status = 429
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimitUnavailable(GatewayError):
    status = 503
    code = "rate_limit_unavailable"


@dataclass(frozen=True)
class Grant:
    """Counters a call took from; ``adjust`` corrects their tokens afterwards."""

    token_keys: tuple[str, ...]
    estimated_tokens: int


def _minute() -> int:
    return int(time.time() // WINDOW_SECONDS)


def retry_after_seconds() -> int:
    return max(1, math.ceil(WINDOW_SECONDS - time.time() % WINDOW_SECONDS))


def limited_message(rule: LimitRule, kind: str, retry_after: int) -> str:
    scope = rule.ident.split(":", 1)[0]
    who = {
        "key": gettext("this API key"),
        "user": gettext("you"),
        "dept": gettext("your department"),
        "deployment": gettext("this model"),
    }.get(scope, scope)
    if kind == "rpm":
        text = gettext(
            "Too many requests for %(who)s: at most %(limit)s per minute. "
            "Try again in %(seconds)s s."
        )
        limit = rule.rpm
    else:
        text = gettext(
            "Too many tokens for %(who)s: at most %(limit)s per minute. Try again in %(seconds)s s."
        )
        limit = rule.tpm
    return text % {"who": who, "limit": limit, "seconds": retry_after}


async def acquire(client: aioredis.Redis, rules: list[LimitRule], *, tokens: int) -> Grant | None:
    """Take one request and ``tokens`` from every rule, or raise RateLimited."""
    rules = [r for r in rules if r.rpm is not None or r.tpm is not None]
    if not rules:
        return None
    minute = _minute()
    keys: list[str] = []
    args: list[int] = [len(rules), tokens]
    for rule in rules:
        keys += [f"rl:{rule.ident}:r:{minute}", f"rl:{rule.ident}:t:{minute}"]
        args += [rule.rpm if rule.rpm is not None else -1, rule.tpm if rule.tpm is not None else -1]
    try:
        index, kind = await client.eval(ACQUIRE, len(keys), *keys, *args)
    except (redis.RedisError, OSError) as exc:
        logger.warning("rate limit check failed: %s", type(exc).__name__)
        raise RateLimitUnavailable(
            gettext("Rate limits cannot be checked right now. Please try again shortly.")
        ) from None
    if int(index) > 0:
        wait = retry_after_seconds()
        kind_text = kind.decode() if isinstance(kind, bytes) else str(kind)
        raise RateLimited(limited_message(rules[int(index) - 1], kind_text, wait), retry_after=wait)
    return Grant(tuple(keys[1::2]), tokens)


async def adjust(client: aioredis.Redis, grant: Grant | None, *, actual_tokens: int) -> None:
    """Replace the estimate with the real token count (same minute's counters)."""
    if grant is None or actual_tokens == grant.estimated_tokens:
        return
    try:
        async with client.pipeline(transaction=False) as pipe:
            for key in grant.token_keys:
                pipe.incrby(key, actual_tokens - grant.estimated_tokens)
            await pipe.execute()
    except (redis.RedisError, OSError) as exc:
        logger.warning("rate limit token update failed: %s", type(exc).__name__)
