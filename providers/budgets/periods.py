"""Budget windows: when a day, a week (from Monday) or a month starts and ends, in the
budget time zone (Asia/Seoul unless ``BUDGET_TIME_ZONE`` says otherwise)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

TOTAL_START = datetime(2000, 1, 1, tzinfo=UTC)
TOTAL_END = datetime(9999, 1, 1, tzinfo=UTC)


def budget_zone() -> ZoneInfo:
    return ZoneInfo(settings.BUDGET_TIME_ZONE)


def window_bounds(period: str, at: datetime) -> tuple[datetime, datetime]:
    """The ``[start, end)`` of the ``period`` window holding ``at`` (aware datetimes)."""
    if period == "total":
        return TOTAL_START, TOTAL_END
    local = at.astimezone(budget_zone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        start, end = midnight, midnight + timedelta(days=1)
    elif period == "week":
        start = midnight - timedelta(days=midnight.weekday())
        end = start + timedelta(days=7)
    elif period == "month":
        start = midnight.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise ValueError(f"unknown budget period {period!r}")
    # Re-localise so a DST change inside the window (not in Korea, but elsewhere) is right.
    zone = budget_zone()
    return (
        start.replace(tzinfo=None).replace(tzinfo=zone),
        end.replace(tzinfo=None).replace(tzinfo=zone),
    )
