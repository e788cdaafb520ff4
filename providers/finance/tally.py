"""Sums over ledger rows, converted into won day by day (pure; no queries).

A :class:`Tally` is one displayed line or total. ``krw`` is what is shown: a line
rounds its exact won once, a total adds the ``krw`` of its lines (see ``money``).
Cost on a day before any exchange rate is never converted: it stays in
``unconverted_usd`` and its days in ``missing_days``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from providers.finance.money import ZERO, round_won

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date
    from decimal import Decimal

    from providers.finance.rates import RateTable


@dataclass(frozen=True)
class DaySums:
    """What the ledger holds for one group on one day (Asia/Seoul)."""

    day: date
    requests: int
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True)
class Tally:
    requests: int = 0
    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = ZERO
    krw_exact: Decimal = ZERO
    krw: int = 0
    unconverted_usd: Decimal = ZERO
    missing_days: tuple[date, ...] = field(default=())

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def has_unconverted(self) -> bool:
        """Some of the cost fell on days without an exchange rate."""
        return self.unconverted_usd > 0

    @property
    def has_krw(self) -> bool:
        """False when no part of a non-zero cost could be converted: show "no rate"."""
        return not self.has_unconverted or self.unconverted_usd < self.cost_usd


def tally_line(days: Iterable[DaySums], rates: RateTable) -> Tally:
    """One line: each day's cost at that day's rate, summed exactly, rounded once."""
    requests = attempts = prompt = completion = 0
    cost = krw = unconverted = ZERO
    missing: set[date] = set()
    for sums in days:
        requests += sums.requests
        attempts += sums.attempts
        prompt += sums.prompt_tokens
        completion += sums.completion_tokens
        cost += sums.cost_usd
        if not sums.cost_usd:
            continue
        rate = rates.rate_on(sums.day)
        if rate is None:
            unconverted += sums.cost_usd
            missing.add(sums.day)
        else:
            krw += sums.cost_usd * rate.krw_per_unit
    return Tally(
        requests=requests,
        attempts=attempts,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=cost,
        krw_exact=krw,
        krw=round_won(krw),
        unconverted_usd=unconverted,
        missing_days=tuple(sorted(missing)),
    )


def tally_total(lines: Iterable[Tally]) -> Tally:
    """The total of displayed lines: ``krw`` is the sum of the lines' ``krw``."""
    items = list(lines)
    return Tally(
        requests=sum(line.requests for line in items),
        attempts=sum(line.attempts for line in items),
        prompt_tokens=sum(line.prompt_tokens for line in items),
        completion_tokens=sum(line.completion_tokens for line in items),
        cost_usd=sum((line.cost_usd for line in items), ZERO),
        krw_exact=sum((line.krw_exact for line in items), ZERO),
        krw=sum(line.krw for line in items),
        unconverted_usd=sum((line.unconverted_usd for line in items), ZERO),
        missing_days=tuple(sorted({day for line in items for day in line.missing_days})),
    )
