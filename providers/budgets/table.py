"""Which budgets and rate limits apply to a caller, answered from memory.

The table (every budget and rate limit, and each department's ancestors) is loaded
in a few queries and kept per process; a ``budgets.changed`` event or its age
reloads it, so the request path reads no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from providers.budgets.models import Budget, RateLimit, Scope

if TYPE_CHECKING:
    from providers.keys import Caller

MAX_AGE_SECONDS = 30.0
NANO = Decimal(1_000_000_000)


def to_nano(usd: Decimal, *, round_up: bool) -> int:
    """USD as whole billionths (Redis counts integers)."""
    return int((usd * NANO).to_integral_value(ROUND_CEILING if round_up else ROUND_FLOOR))


def from_nano(value: int) -> Decimal:
    return Decimal(value) / NANO


@dataclass(frozen=True)
class BudgetRule:
    """One budget as the enforcer sees it. ``ident`` names its Redis counters:
    ``b<id>`` for a Budget row, ``k<id>`` for a key's own ``max_budget_usd``."""

    ident: str
    budget_id: int | None
    scope: str
    target_id: int
    period: str
    limit_nano: int
    hard: bool
    department_path: str = ""  # for department budgets: the subtree to seed from

    @property
    def limit_usd(self) -> Decimal:
        return from_nano(self.limit_nano)


@dataclass(frozen=True)
class LimitRule:
    """Requests and tokens per minute for one scope; ``ident`` names its counters."""

    ident: str
    rpm: int | None
    tpm: int | None


@dataclass(frozen=True)
class CostTable:
    by_key: dict[int, tuple[BudgetRule, ...]]
    by_user: dict[int, tuple[BudgetRule, ...]]
    by_department: dict[int, tuple[BudgetRule, ...]]
    by_organization: dict[int, tuple[BudgetRule, ...]]
    limits_by_user: dict[int, LimitRule]
    limits_by_department: dict[int, LimitRule]
    # department id → (organization id, ids from the root down to itself)
    departments: dict[int, tuple[int, tuple[int, ...]]]

    def chain(self, department_id: int | None) -> tuple[int, ...]:
        if department_id is None or department_id not in self.departments:
            return ()
        return self.departments[department_id][1]

    def organization_of(self, caller: Caller) -> int | None:
        if caller.organization_id is not None:
            return caller.organization_id
        if caller.department_id in self.departments:
            return self.departments[caller.department_id][0]
        return None

    def budgets_for(self, caller: Caller) -> list[BudgetRule]:
        """Every budget the call must fit: the key's, the user's, each department's up
        the tree and the organization's."""
        rules: list[BudgetRule] = []
        if caller.key_id is not None:
            rules.extend(self.by_key.get(caller.key_id, ()))
            if caller.max_budget_usd is not None:
                rules.append(
                    BudgetRule(
                        ident=f"k{caller.key_id}",
                        budget_id=None,
                        scope=Scope.KEY,
                        target_id=caller.key_id,
                        period=Budget.Period.TOTAL,
                        limit_nano=to_nano(caller.max_budget_usd, round_up=False),
                        hard=True,
                    )
                )
        if caller.user_id is not None:
            rules.extend(self.by_user.get(caller.user_id, ()))
        for department_id in self.chain(caller.department_id):
            rules.extend(self.by_department.get(department_id, ()))
        organization_id = self.organization_of(caller)
        if organization_id is not None:
            rules.extend(self.by_organization.get(organization_id, ()))
        return rules

    def limits_for(self, caller: Caller) -> list[LimitRule]:
        rules: list[LimitRule] = []
        if caller.key_id is not None and (caller.rpm or caller.tpm):
            rules.append(LimitRule(f"key:{caller.key_id}", caller.rpm, caller.tpm))
        if caller.user_id is not None and caller.user_id in self.limits_by_user:
            rules.append(self.limits_by_user[caller.user_id])
        for department_id in self.chain(caller.department_id):
            if department_id in self.limits_by_department:
                rules.append(self.limits_by_department[department_id])
        return rules


def _rule(budget: Budget, paths: dict[int, str]) -> BudgetRule:
    target = {
        Scope.KEY: budget.virtual_key_id,
        Scope.USER: budget.user_id,
        Scope.DEPARTMENT: budget.department_id,
        Scope.ORGANIZATION: budget.organization_id,
    }[Scope(budget.scope)]
    assert target is not None  # noqa: S101 - the check constraint guarantees it
    return BudgetRule(
        ident=f"b{budget.pk}",
        budget_id=budget.pk,
        scope=budget.scope,
        target_id=target,
        period=budget.period,
        limit_nano=to_nano(budget.limit_usd, round_up=False),
        hard=budget.enforcement == Budget.Enforcement.HARD,
        department_path=paths.get(budget.department_id or 0, ""),
    )


def cost_table_load() -> CostTable:
    from orgs.models import Department

    paths: dict[int, str] = {}
    departments: dict[int, tuple[int, tuple[int, ...]]] = {}
    for pk, organization_id, path in Department.objects.values_list(
        "pk", "organization_id", "path"
    ):
        paths[pk] = path
        departments[pk] = (organization_id, tuple(int(p) for p in path.strip("/").split("/") if p))
    grouped: dict[str, dict[int, list[BudgetRule]]] = {s.value: {} for s in Scope}
    for budget in Budget.objects.all():
        rule = _rule(budget, paths)
        grouped[budget.scope].setdefault(rule.target_id, []).append(rule)
    limits_user: dict[int, LimitRule] = {}
    limits_department: dict[int, LimitRule] = {}
    for limit in RateLimit.objects.all():
        if limit.scope == Scope.USER and limit.user_id is not None:
            limits_user[limit.user_id] = LimitRule(f"user:{limit.user_id}", limit.rpm, limit.tpm)
        elif limit.department_id is not None:
            limits_department[limit.department_id] = LimitRule(
                f"dept:{limit.department_id}", limit.rpm, limit.tpm
            )

    def frozen(scope: Scope) -> dict[int, tuple[BudgetRule, ...]]:
        return {k: tuple(v) for k, v in grouped[scope.value].items()}

    return CostTable(
        by_key=frozen(Scope.KEY),
        by_user=frozen(Scope.USER),
        by_department=frozen(Scope.DEPARTMENT),
        by_organization=frozen(Scope.ORGANIZATION),
        limits_by_user=limits_user,
        limits_by_department=limits_department,
        departments=departments,
    )
