"""How days and amounts are written on the finance pages, in the reader's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import formats, translation

if TYPE_CHECKING:
    from datetime import date


def _korean() -> bool:
    return (translation.get_language() or "ko").startswith("ko")


def day_axis_label(day: date) -> str:
    """Short, for chart axes: ``3월 5일`` in Korean, ``03-05`` otherwise."""
    return f"{day.month}월 {day.day}일" if _korean() else f"{day:%m-%d}"


def day_label(day: date) -> str:
    """For tooltips and tables: the month day and the weekday (``3월 5일 (수)``)."""
    return f"{formats.date_format(day, 'MONTH_DAY_FORMAT')} ({formats.date_format(day, 'D')})"


def won_compact(value: float) -> str:
    """An axis amount in won: ``₩1.2억``/``₩350만`` in Korean, ``₩1.2M``/``₩350K`` otherwise."""
    if _korean():
        units = ((1e12, "조"), (1e8, "억"), (1e4, "만"))
    else:
        units = ((1e9, "B"), (1e6, "M"), (1e3, "K"))
    for size, suffix in units:
        if abs(value) >= size:
            return f"₩{_short(value / size)}{suffix}"
    return f"₩{value:,.0f}"


def usd_compact(value: float) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"${_short(value / size)}{suffix}"
    if value and abs(value) < 10:
        return f"${value:,.2f}".rstrip("0").rstrip(".")
    return f"${value:,.0f}"


def _short(number: float) -> str:
    text = f"{number:,.1f}"
    return text[:-2] if text.endswith(".0") else text
