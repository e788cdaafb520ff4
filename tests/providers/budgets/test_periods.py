"""Budget windows reset at midnight in the budget time zone (Asia/Seoul by default)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from providers.budgets.periods import window_bounds

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

SEOUL = ZoneInfo("Asia/Seoul")
# 2026-11-30 23:30 UTC is Tuesday 2026-12-01 08:30 in Seoul.
LATE_UTC = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("day", datetime(2026, 12, 1, tzinfo=SEOUL), datetime(2026, 12, 2, tzinfo=SEOUL)),
        ("week", datetime(2026, 11, 30, tzinfo=SEOUL), datetime(2026, 12, 7, tzinfo=SEOUL)),
        ("month", datetime(2026, 12, 1, tzinfo=SEOUL), datetime(2027, 1, 1, tzinfo=SEOUL)),
    ],
)
def test_windows_follow_seoul_calendar(period: str, start: datetime, end: datetime) -> None:
    assert window_bounds(period, LATE_UTC) == (start, end)


def test_the_time_zone_is_a_setting(settings: Settings) -> None:
    settings.BUDGET_TIME_ZONE = "UTC"
    start, end = window_bounds("month", LATE_UTC)
    assert (start, end) == (
        datetime(2026, 11, 1, tzinfo=ZoneInfo("UTC")),
        datetime(2026, 12, 1, tzinfo=ZoneInfo("UTC")),
    )


def test_a_december_month_ends_in_january_and_total_never_resets() -> None:
    assert window_bounds("month", datetime(2026, 12, 31, 14, 59, tzinfo=UTC))[1] == datetime(
        2027, 1, 1, tzinfo=SEOUL
    )
    start, end = window_bounds("total", LATE_UTC)
    assert start.year == 2000 and end.year == 9999
    with pytest.raises(ValueError, match="unknown budget period"):
        window_bounds("fortnight", LATE_UTC)
