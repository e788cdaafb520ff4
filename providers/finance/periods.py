"""Report periods: whole calendar days in the site's time zone, both ends included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

THIS_MONTH = "this_month"
LAST_MONTH = "last_month"
LAST_30_DAYS = "last_30_days"
CUSTOM = "custom"
MAX_DAYS = 366


def site_zone() -> ZoneInfo:
    """Days of use are calendar days here (Asia/Seoul unless TIME_ZONE says otherwise)."""
    return ZoneInfo(settings.TIME_ZONE)


def local_today() -> date:
    return timezone.now().astimezone(site_zone()).date()


def start_of_day(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=site_zone())


@dataclass(frozen=True)
class Period:
    first: date
    last: date
    preset: str = CUSTOM

    def bounds(self) -> tuple[datetime, datetime]:
        """``[first 00:00, day after last 00:00)`` as aware datetimes."""
        return start_of_day(self.first), start_of_day(self.last + timedelta(days=1))

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def day_count(self) -> int:
        return (self.last - self.first).days + 1


def month_period(year: int, month: int) -> Period:
    first = date(year, month, 1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def preset_period(preset: str, today: date) -> Period:
    """One of the named periods, seen from ``today``. This month runs to today."""
    if preset == LAST_MONTH:
        previous = today.replace(day=1) - timedelta(days=1)
        period = month_period(previous.year, previous.month)
        return Period(period.first, period.last, LAST_MONTH)
    if preset == LAST_30_DAYS:
        return Period(today - timedelta(days=29), today, LAST_30_DAYS)
    return Period(today.replace(day=1), today, THIS_MONTH)


def recent_months(today: date, count: int) -> list[date]:
    """The first days of the ``count`` latest months, this one first."""
    months = [today.replace(day=1)]
    while len(months) < count:
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return months
