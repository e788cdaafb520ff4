"""Reads for the PII policy pages: the rules a user sees and the effective policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import F, Q

from orgs.models import Department, Role, User
from orgs.permissions import is_platform_admin, managed_departments
from orgs.selectors import user_role_departments
from providers.models import Deployment
from providers.pii.models import PiiAction, PiiPolicy

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from providers.pii.policy import PolicyTable, Resolution


@dataclass(frozen=True)
class RuleRow:
    policy: PiiPolicy
    editable: bool


def _ancestor_ids(departments: list[Department]) -> set[int]:
    return {
        int(part)
        for department in departments
        for part in department.path.strip("/").split("/")
        if part
    }


def pii_policy_list_for_user(user: User | AnonymousUser) -> list[RuleRow]:
    """Platform admins: every rule, all editable. Department admins: the rules of
    their departments (editable) and those inherited from above them, down from the
    organisation-wide ones (read-only). Organisation-wide rules first, then by tree."""
    rules = PiiPolicy.objects.select_related("department").order_by(
        F("department__path").asc(nulls_first=True), "model_name"
    )
    if isinstance(user, User) and is_platform_admin(user):
        return [RuleRow(policy, True) for policy in rules]
    managed_ids = set(managed_departments(user).values_list("pk", flat=True))
    if not managed_ids:
        return []
    assert isinstance(user, User)  # noqa: S101 - managed departments imply a user
    above = _ancestor_ids(user_role_departments(user, Role.DEPT_ADMIN))
    visible = rules.filter(Q(department__isnull=True) | Q(department_id__in=managed_ids | above))
    return [RuleRow(policy, policy.department_id in managed_ids) for policy in visible]


@dataclass(frozen=True)
class EffectiveRule:
    """An action and where it comes from: a department's rule (``department``), an
    organisation-wide rule (``department`` None) or the default setting."""

    action: str
    department: Department | None
    from_default: bool
    model_name: str

    @property
    def action_label(self) -> str:
        return str(PiiAction(self.action).label)


@dataclass(frozen=True)
class EffectivePolicy:
    """What applies to callers in ``department`` (None: callers without one): for
    every model, and the models some rule singles out."""

    department: Department | None
    depth: int
    every_model: EffectiveRule
    exceptions: tuple[EffectiveRule, ...]

    @property
    def indent(self) -> int:
        """``depth``, capped for the page's indentation classes."""
        return min(self.depth, 3)


def effective_policy_list(
    *, table: PolicyTable, departments: list[Department], include_no_department: bool
) -> list[EffectivePolicy]:
    """The effective policy of each department in ``departments`` (in their order),
    preceded by the one for callers without a department when asked."""
    named_models = sorted(table.model_names())
    sources = Department.objects.in_bulk(
        {key for key in table.rules if key is not None} | {d.pk for d in departments}
    )

    def rule(resolution: Resolution) -> EffectiveRule:
        department = (
            sources.get(resolution.department_id) if resolution.department_id is not None else None
        )
        return EffectiveRule(
            resolution.action, department, resolution.from_default, resolution.model_name
        )

    def row(department: Department | None) -> EffectivePolicy:
        department_id = department.pk if department is not None else None
        exceptions = []
        for name in named_models:
            resolution = table.resolve(department_id, name)
            if resolution.model_name == name:
                exceptions.append(rule(resolution))
        depth = department.path.count("/") - 2 if department is not None else 0
        return EffectivePolicy(
            department, depth, rule(table.resolve(department_id, "")), tuple(exceptions)
        )

    rows = [row(None)] if include_no_department else []
    rows.extend(row(department) for department in departments)
    return rows


def known_model_names() -> list[str]:
    """Model groups configured in the gateway, for the rule form's suggestions."""
    return sorted(set(Deployment.objects.values_list("model_name", flat=True)))
