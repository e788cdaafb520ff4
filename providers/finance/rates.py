"""Which rate converts which day: a pure lookup over an already-loaded rate list."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date
    from decimal import Decimal

# The ledger records every cost in USD (``UsageRecord.cost_usd``), whatever the
# provider bills in; this is the currency whose rates convert it.
LEDGER_CURRENCY = "USD"


@dataclass(frozen=True)
class AppliedRate:
    id: int
    currency: str
    valid_from: date
    krw_per_unit: Decimal


class RateTable:
    """The rates of one currency; ``rate_on(day)`` is the one whose ``valid_from`` is
    the latest on or before ``day``, or None when the day precedes every rate."""

    def __init__(self, rates: Iterable[AppliedRate]) -> None:
        self._rates = sorted(rates, key=lambda rate: rate.valid_from)
        self._starts = [rate.valid_from for rate in self._rates]

    def rate_on(self, day: date) -> AppliedRate | None:
        index = bisect_right(self._starts, day)
        return self._rates[index - 1] if index else None

    def __bool__(self) -> bool:
        return bool(self._rates)
