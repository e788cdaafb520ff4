"""Reads for the finance dashboards: the ledger (``providers.UsageRecord``) summed by
department, user, model, provider and day over a period, converted into won day by day.

Every function takes a :class:`UsageScope`, resolved from the reader with
``usage_scope_for`` (``orgs.permissions.usage_departments``): rows outside it are
never read. Requests are client requests (final attempts); cost and tokens count
every attempt, because every attempt is billed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from orgs.models import User
from providers.finance.models import ExchangeRate
from providers.finance.money import ZERO, vat_on
from providers.finance.periods import site_zone
from providers.finance.rates import LEDGER_CURRENCY, AppliedRate, RateTable
from providers.finance.tally import DaySums, Tally, tally_line, tally_total
from providers.models import UsageRecord

if TYPE_CHECKING:
    from datetime import date

    from providers.finance.periods import Period
    from providers.finance.scope import DepartmentRef, UsageScope

GroupKey = int | str | None


@dataclass(frozen=True)
class DepartmentLine:
    """``own``: rows attributed to the department itself; ``subtree``: the total of the
    displayed own lines of the department and its descendants. ``department`` is None
    for rows that name no (existing) department, which only platform admins see."""

    department: DepartmentRef | None
    depth: int
    own: Tally
    subtree: Tally


@dataclass(frozen=True)
class UserLine:
    user_id: int | None
    name: str
    email: str
    tally: Tally


@dataclass(frozen=True)
class KeyedLine:
    """A line keyed by a model group or a provider name."""

    key: str
    tally: Tally


@dataclass(frozen=True)
class DayLine:
    day: date
    tally: Tally
    rate: AppliedRate | None


def rate_table(currency: str = LEDGER_CURRENCY) -> RateTable:
    return RateTable(
        AppliedRate(*row)
        for row in ExchangeRate.objects.filter(currency=currency).values_list(
            "id", "currency", "valid_from", "krw_per_unit"
        )
    )


def ledger_rows(scope: UsageScope, period: Period) -> QuerySet[UsageRecord]:
    start, end = period.bounds()
    return UsageRecord.objects.filter(scope.row_filter(), created_at__gte=start, created_at__lt=end)


def day_sums(rows: QuerySet[UsageRecord], key: str | None) -> dict[GroupKey, list[DaySums]]:
    """``rows`` summed per ``key`` value and per calendar day, in one grouped query."""
    fields = [key] if key else []
    grouped = (
        rows.order_by()  # the model's default ordering would split the groups
        .annotate(day=TruncDate("created_at", tzinfo=site_zone()))
        .values(*fields, "day")
        .annotate(
            requests=Count("id", filter=Q(is_final=True)),
            attempts=Count("id"),
            prompt=Sum("prompt_tokens"),
            completion=Sum("completion_tokens"),
            cost=Sum("cost_usd"),
        )
    )
    result: dict[GroupKey, list[DaySums]] = defaultdict(list)
    for row in grouped:
        result[row[key] if key else None].append(
            DaySums(
                day=row["day"],
                requests=row["requests"],
                attempts=row["attempts"],
                prompt_tokens=row["prompt"] or 0,
                completion_tokens=row["completion"] or 0,
                cost_usd=row["cost"] or ZERO,
            )
        )
    return result


def usage_by_department(
    scope: UsageScope, period: Period, rates: RateTable
) -> list[DepartmentLine]:
    """Departments with usage in the period (own or below), in org-chart order; the
    line of rows without a department comes last."""
    known = {department.id for department in scope.departments}
    own: dict[int, Tally] = {}
    unassigned: list[DaySums] = []
    for key, days in day_sums(ledger_rows(scope, period), "department_id").items():
        if isinstance(key, int) and key in known:
            own[key] = tally_line(days, rates)
        else:
            unassigned.extend(days)
    base = min((d.depth for d in scope.departments), default=0)
    by_id = {department.id: department for department in scope.departments}
    lines: list[DepartmentLine] = []
    for department in scope.departments:
        below = [tally for pk, tally in own.items() if department.contains(by_id[pk])]
        if not below:
            continue
        lines.append(
            DepartmentLine(
                department=department,
                depth=department.depth - base,
                own=own.get(department.id, Tally()),
                subtree=tally_total(below),
            )
        )
    if unassigned and scope.everything:
        line = tally_line(unassigned, rates)
        lines.append(DepartmentLine(department=None, depth=0, own=line, subtree=line))
    return lines


def usage_by_user(scope: UsageScope, period: Period, rates: RateTable) -> list[UserLine]:
    """People with usage in the period, most expensive first."""
    sums = day_sums(ledger_rows(scope, period), "user_id")
    people = {
        pk: (name, email)
        for pk, name, email in User.objects.filter(pk__in=[k for k in sums if k]).values_list(
            "id", "name", "email"
        )
    }
    lines = []
    for key, days in sums.items():
        user_id = key if isinstance(key, int) else None
        name, email = people.get(user_id, ("", "")) if user_id else ("", "")
        lines.append(UserLine(user_id, name, email, tally_line(days, rates)))
    return sorted(lines, key=lambda line: (-line.tally.cost_usd, line.name, line.email))


def _keyed(scope: UsageScope, period: Period, rates: RateTable, field: str) -> list[KeyedLine]:
    sums = day_sums(ledger_rows(scope, period), field)
    lines = [KeyedLine(str(key or ""), tally_line(days, rates)) for key, days in sums.items()]
    return sorted(lines, key=lambda line: (-line.tally.cost_usd, line.key))


def usage_by_model(scope: UsageScope, period: Period, rates: RateTable) -> list[KeyedLine]:
    """Model groups (the public model names), most expensive first."""
    return _keyed(scope, period, rates, "model_group")


def usage_by_provider(scope: UsageScope, period: Period, rates: RateTable) -> list[KeyedLine]:
    return _keyed(scope, period, rates, "provider")


def usage_by_day(scope: UsageScope, period: Period, rates: RateTable) -> list[DayLine]:
    """Every day of the period, days without usage included."""
    sums = {s.day: s for s in day_sums(ledger_rows(scope, period), None).get(None, [])}
    lines = []
    for day in period.days():
        found = sums.get(day)
        tally = tally_line([found], rates) if found else Tally()
        lines.append(DayLine(day, tally, rates.rate_on(day)))
    return lines


@dataclass(frozen=True)
class UsageReport:
    """Everything a dashboard shows for one scope and period. ``total`` is the total
    of the department lines (the figure the department table adds up to)."""

    period: Period
    total: Tally
    departments: list[DepartmentLine]
    models: list[KeyedLine]
    providers: list[KeyedLine]
    days: list[DayLine]

    @property
    def vat_krw(self) -> int:
        """VAT on the won total (``VAT_RATE``, half up), shown separately."""
        return vat_on(self.total.krw, settings.VAT_RATE)

    @property
    def total_with_vat_krw(self) -> int:
        return self.total.krw + self.vat_krw

    @property
    def models_total(self) -> Tally:
        return tally_total(line.tally for line in self.models)

    @property
    def providers_total(self) -> Tally:
        return tally_total(line.tally for line in self.providers)

    @property
    def days_total(self) -> Tally:
        return tally_total(line.tally for line in self.days)


def usage_report(scope: UsageScope, period: Period) -> UsageReport:
    rates = rate_table()
    departments = usage_by_department(scope, period, rates)
    return UsageReport(
        period=period,
        total=tally_total(line.own for line in departments),
        departments=departments,
        models=usage_by_model(scope, period, rates),
        providers=usage_by_provider(scope, period, rates),
        days=usage_by_day(scope, period, rates),
    )
