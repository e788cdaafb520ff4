"""Budget enforcement: reserve the estimated cost before a call, settle the real cost
after it, atomically in Redis, so parallel requests cannot overspend.

Each budget window has three Redis keys: a hash with ``spent`` and ``reserved`` (whole
billionths of a dollar), a hash of reservations by request id, and a sorted set of
their expiry times (a process that dies mid-call leaves a reservation that expires
instead of holding the budget forever). A missing ``spent`` is seeded from the
ledger, which stays the record. One Lua script checks every budget of a call and
reserves on all of them, or on none.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import redis
from asgiref.sync import sync_to_async
from django.utils import timezone
from django.utils.translation import gettext

from providers.budgets.periods import window_bounds
from providers.budgets.selectors import rule_spend
from providers.budgets.table import BudgetRule, from_nano, to_nano
from providers.errors import GatewayError

if TYPE_CHECKING:
    import redis.asyncio as aioredis

logger = logging.getLogger(__name__)
RESERVATION_GRACE_SECONDS = 60
ALERT_THRESHOLDS = (50, 80, 100)

RESERVE = """
local now, rid, expiry, n = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local amount = tonumber(ARGV[5])
local unseeded = {}
for i = 1, n do
  local base, res, exp = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  local seed = tonumber(ARGV[5 + 4*i - 1])
  local ttl = tonumber(ARGV[5 + 4*i])
  if redis.call('HEXISTS', base, 'spent') == 0 then
    if seed < 0 then
      table.insert(unseeded, i)
    else
      redis.call('HSET', base, 'spent', seed, 'reserved', 0)
      redis.call('EXPIRE', base, ttl)
    end
  end
  local stale = redis.call('ZRANGEBYSCORE', exp, '-inf', now)
  for _, r in ipairs(stale) do
    local held = redis.call('HGET', res, r)
    if held then
      redis.call('HINCRBY', base, 'reserved', -tonumber(held))
      redis.call('HDEL', res, r)
    end
    redis.call('ZREM', exp, r)
  end
end
if #unseeded > 0 then
  table.insert(unseeded, 1, 'seed')
  return unseeded
end
for i = 1, n do
  local limit = tonumber(ARGV[5 + 4*i - 3])
  local hard = ARGV[5 + 4*i - 2]
  if hard == '1' then
    local base = KEYS[3*i-2]
    local spent = tonumber(redis.call('HGET', base, 'spent'))
    local reserved = tonumber(redis.call('HGET', base, 'reserved') or '0')
    if spent + reserved + amount > limit then
      return {'full', i, tostring(spent), tostring(reserved)}
    end
  end
end
for i = 1, n do
  local base, res, exp = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  local ttl = tonumber(ARGV[5 + 4*i])
  redis.call('HINCRBY', base, 'reserved', amount)
  redis.call('HSET', res, rid, amount)
  redis.call('ZADD', exp, expiry, rid)
  redis.call('EXPIRE', base, ttl)
  redis.call('EXPIRE', res, ttl)
  redis.call('EXPIRE', exp, ttl)
end
return {'ok'}
"""

SETTLE = """
local rid, actual, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for i = 1, n do
  local base, res, exp = KEYS[3*i-2], KEYS[3*i-1], KEYS[3*i]
  local held = redis.call('HGET', res, rid)
  if held then
    redis.call('HINCRBY', base, 'reserved', -tonumber(held))
    redis.call('HDEL', res, rid)
    redis.call('ZREM', exp, rid)
  end
  if redis.call('HEXISTS', base, 'spent') == 1 then
    table.insert(out, tostring(redis.call('HINCRBY', base, 'spent', actual)))
  else
    table.insert(out, '-1')
  end
end
return out
"""


class BudgetExceeded(GatewayError):
    """A hard budget has no room for the call. 429 with OpenAI's quota error type."""

    status = 429
    code = "budget_exceeded"
    error_type = "insufficient_quota"


class BudgetUnavailable(GatewayError):
    """Budgets apply but Redis does not answer: refuse rather than let spend through."""

    status = 503
    code = "budget_check_unavailable"


@dataclass(frozen=True)
class Window:
    rule: BudgetRule
    start: datetime
    end: datetime

    @property
    def base(self) -> str:
        return f"budget:{self.rule.ident}:{int(self.start.timestamp())}"

    def redis_keys(self) -> list[str]:
        return [self.base, f"{self.base}:r", f"{self.base}:x"]

    def ttl_seconds(self, now: datetime) -> int:
        if self.rule.period == "total":
            return 30 * 86400
        return max(60, math.ceil((self.end - now).total_seconds()) + 86400)


@dataclass
class Crossing:
    """A budget window whose spend passed an alert threshold with this call."""

    window: Window
    threshold: int
    spent_nano: int


@dataclass
class Reservation:
    request_id: str
    amount_nano: int
    windows: list[Window]
    settled: bool = False
    crossings: list[Crossing] = field(default_factory=list)


def windows_for(rules: list[BudgetRule], now: datetime) -> list[Window]:
    windows = []
    for rule in rules:
        start, end = window_bounds(rule.period, now)
        windows.append(Window(rule, start, end))
    return windows


def _amount_text(usd_nano: int) -> str:
    return f"${from_nano(usd_nano):.2f}"


def exceeded_message(window: Window) -> str:
    rule = window.rule
    who = {
        "key": gettext("this API key"),
        "user": gettext("your personal budget"),
        "department": gettext("your department"),
        "organization": gettext("your organization"),
    }.get(rule.scope, rule.scope)
    period = {
        "day": gettext("daily"),
        "week": gettext("weekly"),
        "month": gettext("monthly"),
        "total": gettext("total"),
    }.get(rule.period, rule.period)
    if rule.period == "total":
        return gettext("The %(period)s budget of %(who)s (%(limit)s) is used up.") % {
            "period": period,
            "who": who,
            "limit": _amount_text(rule.limit_nano),
        }
    resets = timezone.localtime(window.end).strftime("%Y-%m-%d %H:%M")
    return gettext(
        "The %(period)s budget of %(who)s (%(limit)s) is used up. It resets at %(resets)s."
    ) % {"period": period, "who": who, "limit": _amount_text(rule.limit_nano), "resets": resets}


async def _seeds(windows: list[Window], indexes: list[int]) -> dict[int, int]:
    def load() -> dict[int, int]:
        return {
            i: to_nano(rule_spend(windows[i].rule, windows[i].start, windows[i].end), round_up=True)
            for i in indexes
        }

    return await sync_to_async(load)()


async def reserve(
    client: aioredis.Redis,
    *,
    rules: list[BudgetRule],
    request_id: str,
    estimate_nano: int,
    hold_seconds: float,
) -> Reservation | None:
    """Reserve ``estimate_nano`` on every budget in ``rules`` or raise BudgetExceeded.
    None when no budget applies (nothing to settle)."""
    if not rules:
        return None
    now = timezone.now()
    windows = windows_for(rules, now)
    seeds: dict[int, int] = {}
    expiry_ms = int((time.time() + hold_seconds + RESERVATION_GRACE_SECONDS) * 1000)
    for _ in range(3):
        keys = [k for w in windows for k in w.redis_keys()]
        args: list[str | int] = [int(time.time() * 1000), request_id, expiry_ms, len(windows)]
        args.append(estimate_nano)
        for i, window in enumerate(windows):
            args += [
                window.rule.limit_nano,
                "1" if window.rule.hard else "0",
                seeds.get(i, -1),
                window.ttl_seconds(now),
            ]
        try:
            result = await client.eval(RESERVE, len(keys), *keys, *args)
        except (redis.RedisError, OSError) as exc:
            logger.warning("budget reservation failed: %s", type(exc).__name__)
            raise BudgetUnavailable(
                gettext("Budgets cannot be checked right now. Please try again shortly.")
            ) from None
        status = _text(result[0])
        if status == "ok":
            return Reservation(request_id, estimate_nano, windows)
        if status == "full":
            raise BudgetExceeded(exceeded_message(windows[int(result[1]) - 1]))
        seeds.update(await _seeds(windows, [int(i) - 1 for i in result[1:]]))
    raise BudgetUnavailable(
        gettext("Budgets cannot be checked right now. Please try again shortly.")
    )


async def settle(client: aioredis.Redis, reservation: Reservation, *, actual_nano: int) -> None:
    """Release the reservation and add the real cost; note thresholds crossed."""
    if reservation.settled:
        return
    reservation.settled = True
    keys = [k for w in reservation.windows for k in w.redis_keys()]
    try:
        result = await client.eval(
            SETTLE,
            len(keys),
            *keys,
            reservation.request_id,
            actual_nano,
            len(reservation.windows),
        )
    except (redis.RedisError, OSError) as exc:
        # The ledger still records the cost; the counter is reseeded from it later.
        logger.warning("budget settlement failed: %s", type(exc).__name__)
        for window in reservation.windows:
            await _forget(client, window)
        return
    for window, raw in zip(reservation.windows, result, strict=True):
        spent_after = int(_text(raw))
        if spent_after < 0 or actual_nano <= 0:
            continue
        before = spent_after - actual_nano
        for threshold in ALERT_THRESHOLDS:
            mark = window.rule.limit_nano * threshold / 100
            if before < mark <= spent_after:
                reservation.crossings.append(Crossing(window, threshold, spent_after))


async def _forget(client: aioredis.Redis, window: Window) -> None:
    with contextlib.suppress(redis.RedisError, OSError):
        await client.delete(window.base)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
