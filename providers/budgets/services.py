"""Writes: budgets, rate limits and notices. Every change reaches all processes
through the ``budgets.changed`` gateway event."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from orgs.audit import audit_record
from providers.budgets.models import Budget, Notice, RateLimit, Scope
from providers.events import publish_on_commit

if TYPE_CHECKING:
    from orgs.models import Department, Organization, User
    from providers.models import VirtualKey


def _changed() -> None:
    publish_on_commit({"type": "budgets.changed"})
    from providers.runtime import get_runtime

    transaction.on_commit(get_runtime().forget_costs)


def _details(budget: Budget) -> dict[str, object]:
    return {
        "scope": budget.scope,
        "period": budget.period,
        "limit_usd": str(budget.limit_usd),
        "enforcement": budget.enforcement,
        "department": budget.department.code if budget.department else None,
        "user": budget.user.email if budget.user else None,
        "key_prefix": budget.virtual_key.prefix if budget.virtual_key else None,
        "webhook": bool(budget.webhook_url),
    }


@transaction.atomic
def budget_create(
    *,
    organization: Organization,
    scope: str,
    period: str,
    limit_usd: Decimal,
    enforcement: str = Budget.Enforcement.HARD,
    department: Department | None = None,
    user: User | None = None,
    virtual_key: VirtualKey | None = None,
    webhook_url: str = "",
    actor: User | None,
) -> Budget:
    budget = Budget.objects.create(
        organization=organization,
        scope=scope,
        period=period,
        limit_usd=limit_usd,
        enforcement=enforcement,
        department=department if scope == Scope.DEPARTMENT else None,
        user=user if scope == Scope.USER else None,
        virtual_key=virtual_key if scope == Scope.KEY else None,
        webhook_url=webhook_url,
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="budget.create",
        target=budget,
        department=budget.department,
        details=_details(budget),
    )
    _changed()
    return budget


@transaction.atomic
def budget_update(
    *,
    budget: Budget,
    limit_usd: Decimal,
    enforcement: str,
    webhook_url: str,
    actor: User | None,
) -> Budget:
    before = _details(budget)
    budget.limit_usd = limit_usd
    budget.enforcement = enforcement
    budget.webhook_url = webhook_url
    budget.save(update_fields=["limit_usd", "enforcement", "webhook_url", "updated_at"])
    audit_record(
        actor=actor,
        action="budget.update",
        target=budget,
        department=budget.department,
        details={"before": before, "after": _details(budget)},
    )
    _changed()
    return budget


@transaction.atomic
def budget_delete(*, budget: Budget, actor: User | None) -> None:
    audit_record(
        actor=actor,
        action="budget.delete",
        target=budget,
        department=budget.department,
        details=_details(budget),
    )
    budget.delete()
    _changed()


@transaction.atomic
def rate_limit_set(
    *,
    department: Department | None = None,
    user: User | None = None,
    rpm: int | None,
    tpm: int | None,
    actor: User | None,
) -> RateLimit | None:
    """Set (or with both limits empty, remove) the per-minute limits of a department or
    a person."""
    scope = Scope.DEPARTMENT if department is not None else Scope.USER
    if rpm is None and tpm is None:
        RateLimit.objects.filter(scope=scope, department=department, user=user).delete()
        limit = None
    else:
        limit, _created = RateLimit.objects.update_or_create(
            scope=scope, department=department, user=user, defaults={"rpm": rpm, "tpm": tpm}
        )
    audit_record(
        actor=actor,
        action="rate_limit.set",
        target=limit,
        department=department,
        details={
            "scope": scope,
            "department": department.code if department else None,
            "user": user.email if user else None,
            "rpm": rpm,
            "tpm": tpm,
        },
    )
    _changed()
    return limit


def notices_mark_read(*, user: User) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
