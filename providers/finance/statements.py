"""The monthly statement of a department (with its subdepartments): one line per model,
the subtotal in won, VAT shown separately, the total, and the rates used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings

from providers.finance.money import ZERO, vat_on
from providers.finance.periods import month_period, start_of_day
from providers.finance.selectors import day_sums, ledger_rows, rate_table, usage_by_model
from providers.finance.tally import tally_total

_ONE_DAY = timedelta(days=1)

if TYPE_CHECKING:
    from datetime import date, datetime
    from decimal import Decimal

    from providers.finance.periods import Period
    from providers.finance.rates import AppliedRate, RateTable
    from providers.finance.scope import DepartmentRef, UsageScope
    from providers.finance.selectors import KeyedLine
    from providers.finance.tally import Tally


@dataclass(frozen=True)
class RateUse:
    """One rate and the days of the month (with cost) it converted."""

    rate: AppliedRate
    first_day: date
    last_day: date
    day_count: int
    cost_usd: Decimal


@dataclass(frozen=True)
class Statement:
    department: DepartmentRef
    included: tuple[DepartmentRef, ...]
    period: Period
    lines: list[KeyedLine]
    total: Tally
    vat_rate: Decimal
    vat_krw: int
    rates_used: list[RateUse]
    generated_at: datetime

    @property
    def subtotal_krw(self) -> int:
        return self.total.krw

    @property
    def total_krw(self) -> int:
        return self.subtotal_krw + self.vat_krw

    @property
    def provisional(self) -> bool:
        """The month is not over yet: its figures will still grow."""
        return self.generated_at < start_of_day(self.period.last) + _ONE_DAY

    @property
    def complete(self) -> bool:
        """Every cost of the month could be converted into won."""
        return not self.total.has_unconverted


def statement_build(
    scope: UsageScope, department: DepartmentRef, *, year: int, month: int, now: datetime
) -> Statement:
    """``scope`` is the reader's scope narrowed to ``department``'s subtree."""
    period = month_period(year, month)
    rates = rate_table()
    lines = usage_by_model(scope, period, rates)
    total = tally_total(line.tally for line in lines)
    return Statement(
        department=department,
        included=scope.departments,
        period=period,
        lines=lines,
        total=total,
        vat_rate=settings.VAT_RATE,
        vat_krw=vat_on(total.krw, settings.VAT_RATE),
        rates_used=_rates_used(scope, period, rates),
        generated_at=now,
    )


def _rates_used(scope: UsageScope, period: Period, rates: RateTable) -> list[RateUse]:
    uses: dict[int, RateUse] = {}
    days = sorted(day_sums(ledger_rows(scope, period), None).get(None, []), key=lambda s: s.day)
    for sums in days:
        rate = rates.rate_on(sums.day)
        if rate is None or not sums.cost_usd:
            continue
        seen = uses.get(rate.id)
        uses[rate.id] = RateUse(
            rate=rate,
            first_day=seen.first_day if seen else sums.day,
            last_day=sums.day,
            day_count=(seen.day_count if seen else 0) + 1,
            cost_usd=(seen.cost_usd if seen else ZERO) + sums.cost_usd,
        )
    return sorted(uses.values(), key=lambda use: use.first_day)
