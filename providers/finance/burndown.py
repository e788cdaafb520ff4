"""Budget burn-down: a department budget's spend in its current window, day by day,
against its limit and the straight line that would end the window exactly at it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from providers.budgets.models import Budget, Scope
from providers.budgets.periods import budget_zone, window_bounds
from providers.finance.money import ZERO
from providers.finance.selectors import day_sums
from providers.finance.tally import Tally, tally_line
from providers.models import UsageRecord

if TYPE_CHECKING:
    from datetime import date, datetime

    from providers.finance.rates import AppliedRate, RateTable
    from providers.finance.scope import DepartmentRef

_PERIOD_ORDER = {"day": 0, "week": 1, "month": 2, "total": 3}


@dataclass(frozen=True)
class BurnDown:
    """``cumulative_usd[i]`` is the spend up to the end of ``days[i]`` (None for days
    still to come); ``ideal_usd[i]`` the even pace that reaches the limit at the end."""

    budget: Budget
    first_day: date
    last_day: date
    days: list[date]
    cumulative_usd: list[Decimal | None]
    ideal_usd: list[Decimal]
    spent: Tally
    projected_usd: Decimal | None
    latest_rate: AppliedRate | None

    @property
    def rows(self) -> list[tuple[date, Decimal | None, Decimal]]:
        """Day, spend so far and even pace: the chart as a table."""
        return list(zip(self.days, self.cumulative_usd, self.ideal_usd, strict=True))

    @property
    def limit_usd(self) -> Decimal:
        return self.budget.limit_usd

    @property
    def remaining_usd(self) -> Decimal:
        return self.limit_usd - self.spent.cost_usd

    @property
    def percent_used(self) -> int:
        return int(self.spent.cost_usd * 100 / self.limit_usd) if self.limit_usd else 0

    @property
    def over(self) -> bool:
        return self.spent.cost_usd >= self.limit_usd

    @property
    def charted(self) -> bool:
        """Weekly and monthly windows get a chart; a day or a never-ending total does not."""
        return self.budget.period in (Budget.Period.WEEK, Budget.Period.MONTH)

    @property
    def remaining_krw_estimate(self) -> Decimal | None:
        """The remaining USD at the latest rate: an estimate, the rate of later days
        is not known yet."""
        if self.latest_rate is None:
            return None
        return max(self.remaining_usd, ZERO) * self.latest_rate.krw_per_unit


def department_burndowns(
    department: DepartmentRef, *, now: datetime, rates: RateTable
) -> list[BurnDown]:
    """The burn-down of every budget set on ``department`` (which counts its whole
    subtree, like the enforcement does), in each budget's current window."""
    budgets = Budget.objects.filter(scope=Scope.DEPARTMENT, department_id=department.id)
    ordered = sorted(budgets, key=lambda budget: (_PERIOD_ORDER.get(budget.period, 9), budget.pk))
    return [_burndown(budget, department, now=now, rates=rates) for budget in ordered]


def _burndown(
    budget: Budget, department: DepartmentRef, *, now: datetime, rates: RateTable
) -> BurnDown:
    start, end = window_bounds(budget.period, now)
    rows = UsageRecord.objects.filter(
        department__path__startswith=department.path, created_at__gte=start, created_at__lt=end
    )
    sums = sorted(day_sums(rows, None).get(None, []), key=lambda item: item.day)
    today = now.astimezone(budget_zone()).date()
    if budget.period == Budget.Period.TOTAL:
        first_day = sums[0].day if sums else today
        last_day = today
    else:
        first_day = start.date()
        last_day = (end - timedelta(days=1)).date()
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    by_day = {item.day: item.cost_usd for item in sums}
    cumulative: list[Decimal | None] = []
    running = ZERO
    for day in days:
        running += by_day.get(day, ZERO)
        cumulative.append(running if day <= today else None)
    count = Decimal(len(days))
    ideal = [budget.limit_usd * (index + 1) / count for index in range(len(days))]
    spent = tally_line(sums, rates)
    return BurnDown(
        budget=budget,
        first_day=first_day,
        last_day=last_day,
        days=days,
        cumulative_usd=cumulative,
        ideal_usd=ideal,
        spent=spent,
        projected_usd=_projection(spent.cost_usd, start, end, now, budget.period),
        latest_rate=rates.rate_on(today),
    )


def _projection(
    spent: Decimal, start: datetime, end: datetime, now: datetime, period: str
) -> Decimal | None:
    """Spend at the end of the window if the pace so far holds."""
    if period == Budget.Period.TOTAL:
        return None
    elapsed = (now - start).total_seconds()
    length = (end - start).total_seconds()
    if elapsed <= 0 or length <= 0:
        return None
    return spent * Decimal(length) / Decimal(elapsed)
