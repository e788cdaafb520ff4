"""Reads about budgets: spend from the ledger (the record), budgets a person may see."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Q, Sum
from django.utils import timezone

from providers.budgets.models import Budget, Scope
from providers.budgets.periods import window_bounds
from providers.models import UsageRecord

if TYPE_CHECKING:
    from providers.budgets.table import BudgetRule


def _ledger_filter(scope: str, target_id: int, department_path: str) -> Q:
    if scope == Scope.KEY:
        return Q(virtual_key_id=target_id)
    if scope == Scope.USER:
        return Q(user_id=target_id)
    if scope == Scope.DEPARTMENT:
        return Q(department__path__startswith=department_path)
    return Q(department__organization_id=target_id) | Q(
        department__isnull=True, user__organization_id=target_id
    )


def ledger_spend(
    *, scope: str, target_id: int, department_path: str, start: datetime, end: datetime
) -> Decimal:
    """USD the ledger records for a budget's scope in ``[start, end)``."""
    total = (
        UsageRecord.objects.filter(_ledger_filter(scope, target_id, department_path))
        .filter(created_at__gte=start, created_at__lt=end)
        .aggregate(total=Sum("cost_usd"))["total"]
    )
    return total or Decimal(0)


def rule_spend(rule: BudgetRule, start: datetime, end: datetime) -> Decimal:
    return ledger_spend(
        scope=rule.scope,
        target_id=rule.target_id,
        department_path=rule.department_path,
        start=start,
        end=end,
    )


def budget_spend(budget: Budget, *, at: datetime | None = None) -> Decimal:
    start, end = window_bounds(budget.period, at or timezone.now())
    path = budget.department.path if budget.department_id and budget.department else ""
    target = budget.virtual_key_id or budget.user_id or budget.department_id
    return ledger_spend(
        scope=budget.scope,
        target_id=target or budget.organization_id,
        department_path=path,
        start=start,
        end=end,
    )
