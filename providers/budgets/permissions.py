"""Who may see and set budgets and rate limits (R3).

- Platform admins: every budget, the organization's included.
- Finance: budgets of the departments they are assigned to (subtrees included) and
  of the people in them.
- Department admins: budgets of departments below the ones they administer (never
  their own department's, so nobody lifts their own limit) and of the people in
  their subtree other than themselves.
Anyone who may set a budget may see it; department admins and finance also see
the budgets of their own departments that others set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from orgs.errors import AccessDenied
from orgs.models import Department, Role, User
from orgs.permissions import is_platform_admin, managed_departments, usage_departments
from orgs.selectors import subtree_filter, user_role_departments
from providers.budgets.models import Budget, Scope

if TYPE_CHECKING:
    from orgs.permissions import AnyUser


def _actor(user: AnyUser) -> User | None:
    if not user.is_authenticated or not user.is_active:
        return None
    assert isinstance(user, User)  # noqa: S101 - narrows the type for mypy
    return user


def budget_departments(user: AnyUser) -> QuerySet[Department]:
    """Departments whose budgets (and rate limits) ``user`` may set."""
    actor = _actor(user)
    if actor is None:
        return Department.objects.none()
    if is_platform_admin(actor):
        return Department.objects.all()
    finance_roots = user_role_departments(actor, Role.FINANCE)
    admin_roots = user_role_departments(actor, Role.DEPT_ADMIN)
    query = Q(pk__in=[])
    if finance_roots:
        query |= subtree_filter(finance_roots)
    for root in admin_roots:
        query |= Q(path__startswith=root.path) & ~Q(pk=root.pk)
    return Department.objects.filter(query)


def budget_people(user: AnyUser) -> QuerySet[User]:
    """People whose personal budgets and limits ``user`` may set."""
    actor = _actor(user)
    if actor is None:
        return User.objects.none()
    if is_platform_admin(actor):
        return User.objects.all()
    finance_roots = user_role_departments(actor, Role.FINANCE)
    departments = managed_departments(actor) | Department.objects.filter(
        subtree_filter(finance_roots)
    )
    return User.objects.filter(
        memberships__is_primary=True, memberships__department__in=departments
    ).exclude(pk=actor.pk)


def can_set_organization_budget(user: AnyUser) -> bool:
    actor = _actor(user)
    return actor is not None and is_platform_admin(actor)


def can_see_budgets(user: AnyUser) -> bool:
    actor = _actor(user)
    if actor is None:
        return False
    return managed_departments(actor).exists() or usage_departments(actor).exists()


def budgets_visible_to(user: AnyUser) -> QuerySet[Budget]:
    actor = _actor(user)
    budgets = Budget.objects.select_related("department", "user", "virtual_key", "organization")
    if actor is None:
        return budgets.none()
    if is_platform_admin(actor):
        return budgets.all()
    departments = managed_departments(actor) | usage_departments(actor)
    return budgets.filter(
        Q(scope=Scope.DEPARTMENT, department__in=departments)
        | Q(scope=Scope.USER, user__in=budget_people(actor))
        | Q(scope=Scope.KEY, virtual_key__user__in=budget_people(actor))
    ).distinct()


def can_manage_budget(user: AnyUser, budget: Budget) -> bool:
    if budget.scope == Scope.ORGANIZATION:
        return can_set_organization_budget(user)
    if budget.scope == Scope.DEPARTMENT:
        return budget_departments(user).filter(pk=budget.department_id or 0).exists()
    owner_id = budget.user_id if budget.scope == Scope.USER else budget.virtual_key.user_id  # type: ignore[union-attr]
    return budget_people(user).filter(pk=owner_id or 0).exists()


def access_budget(user: AnyUser, budget_id: int | str) -> Budget:
    """A budget ``user`` may change, or AccessDenied (shown as 404)."""
    try:
        budget = budgets_visible_to(user).get(pk=int(budget_id))
    except (Budget.DoesNotExist, ValueError, TypeError):
        raise AccessDenied("No such budget") from None
    if not can_manage_budget(user, budget):
        raise AccessDenied("No such budget")
    return budget
