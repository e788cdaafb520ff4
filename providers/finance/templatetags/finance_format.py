"""Template filters for money and counts: ``{{ tally.krw|won }}``, ``{{ x|usd }}``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import template

from providers.finance.formatting import day_label
from providers.finance.money import format_rate, format_usd, format_won, plain_decimal, round_won

register = template.Library()


@register.filter
def won(value: int | None) -> str:
    return "" if value is None else format_won(int(value))


@register.filter
def won_round(value: Decimal | None) -> str:
    """An exact won amount (an estimate), rounded half up to whole won."""
    return "" if value is None else format_won(round_won(Decimal(value)))


@register.filter
def usd(value: Decimal | int | None) -> str:
    return "" if value is None else format_usd(Decimal(value))


@register.filter
def rate(value: Decimal | None) -> str:
    return "" if value is None else format_rate(Decimal(value))


@register.filter
def thousands(value: int | None) -> str:
    return "" if value is None else f"{int(value):,}"


@register.filter
def percent(value: Decimal | float | None) -> str:
    """A fraction as a percentage: ``0.1`` → ``10%``."""
    if value is None:
        return ""
    return f"{plain_decimal(Decimal(value) * 100)}%"


@register.filter
def day(value: date | None) -> str:
    return "" if value is None else day_label(value)
