"""The time windows of the operations view and the buckets each is cut into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


@dataclass(frozen=True)
class Window:
    key: str
    label: _StrPromise
    span: timedelta
    bucket: timedelta
    # strftime pattern of a bucket's column label, in local time
    tick_format: str


WINDOWS: tuple[Window, ...] = (
    Window("1h", _("Last hour"), timedelta(hours=1), timedelta(minutes=5), "%H:%M"),
    Window("24h", _("Last 24 hours"), timedelta(hours=24), timedelta(hours=1), "%H:%M"),
    Window("7d", _("Last 7 days"), timedelta(days=7), timedelta(hours=6), "%m-%d %H:%M"),
)
DEFAULT_WINDOW = "24h"


def window_get(key: str) -> Window:
    """The window named ``key``; KeyError for an unknown one (forms validate first)."""
    for window in WINDOWS:
        if window.key == key:
            return window
    raise KeyError(key)


def bucket_origin() -> datetime:
    """Local midnight, so that 6-hour buckets start at 00, 06, 12 and 18 o'clock in the
    site's time zone (Asia/Seoul has no daylight saving time, so the grid never shifts)."""
    return datetime(2000, 1, 1, tzinfo=ZoneInfo(settings.TIME_ZONE))


def bucket_floor(moment: datetime, bucket: timedelta) -> datetime:
    """The start of the bucket holding ``moment`` (the same grid as SQL ``date_bin``)."""
    origin = bucket_origin()
    return origin + ((moment - origin) // bucket) * bucket


def bucket_starts(window: Window, now: datetime) -> list[datetime]:
    """Every bucket from the one holding ``now - span`` to the one holding ``now``."""
    first = bucket_floor(now - window.span, window.bucket)
    last = bucket_floor(now, window.bucket)
    count = (last - first) // window.bucket + 1
    return [first + i * window.bucket for i in range(count)]
