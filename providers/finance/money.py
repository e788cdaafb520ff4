"""Money arithmetic and its written form.

The rounding rule, everywhere in finance: a line's won amount is the exact sum of
(each day's cost times that day's rate), rounded once to whole won, half up. A total is
the sum of the lines it shows, so a table always adds up. VAT is the subtotal times
``VAT_RATE``, rounded half up, and total = subtotal + VAT.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
_WON = Decimal(1)
_CENT = Decimal("0.01")


def round_won(amount: Decimal) -> int:
    """Whole won, half up (1.5 → 2, 2.5 → 3)."""
    return int(amount.quantize(_WON, rounding=ROUND_HALF_UP))


def vat_on(subtotal_won: int, rate: Decimal) -> int:
    return round_won(Decimal(subtotal_won) * rate)


def format_won(won: int) -> str:
    """``₩1,234,567`` (``-₩1,234`` below zero)."""
    sign = "-" if won < 0 else ""
    return f"{sign}₩{abs(won):,}"


def format_usd(amount: Decimal) -> str:
    """``$1,234.56``; an amount above zero that rounds to nothing is ``<$0.01``."""
    if ZERO < amount < Decimal("0.005"):
        return "<$0.01"
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"


def format_rate(krw_per_unit: Decimal) -> str:
    """A rate as written on a bank's table: ``₩1,387.50`` (at least two decimals)."""
    places = max(2, -int(krw_per_unit.normalize().as_tuple().exponent))
    return f"₩{krw_per_unit:,.{places}f}"


def plain_decimal(amount: Decimal) -> str:
    """An exact decimal without exponent or trailing zeros, for CSV cells."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text
