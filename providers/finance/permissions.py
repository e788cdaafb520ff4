"""Who may read the finance pages and maintain the exchange rates (R3).

Reading follows ``orgs.permissions.usage_departments``: platform admins read
everything, finance and department admins their assigned subtrees. Exchange rates
are maintained by finance (anyone holding the finance role) and platform admins;
everyone who may read usage may read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgs.errors import AccessDenied
from orgs.models import Role, User
from orgs.permissions import is_platform_admin, usage_departments
from orgs.selectors import user_role_departments
from providers.finance.models import ExchangeRate
from providers.models import UsageRecord

if TYPE_CHECKING:
    from orgs.permissions import AnyUser
    from providers.finance.scope import DepartmentRef, UsageScope


def can_read_usage_reports(user: AnyUser) -> bool:
    return usage_departments(user).exists()


def can_manage_exchange_rates(user: AnyUser) -> bool:
    if not isinstance(user, User) or not user.is_active:
        return False
    return is_platform_admin(user) or bool(user_role_departments(user, Role.FINANCE))


def can_read_exchange_rates(user: AnyUser) -> bool:
    return can_manage_exchange_rates(user) or can_read_usage_reports(user)


def access_usage_department(scope: UsageScope, department_id: int | str) -> DepartmentRef:
    """A department of the reader's scope (from ``usage_scope_for(user)``), or AccessDenied."""
    try:
        department = scope.department(int(department_id))
    except (ValueError, TypeError):
        department = None
    if department is None:
        raise AccessDenied("No such department")
    return department


def access_usage_member(scope: UsageScope, member_id: int | str) -> User:
    """A person with ledger rows inside ``scope`` (a reader's scope narrowed to one
    department), or AccessDenied: nobody else's requests can be listed there."""
    try:
        member = User.objects.get(pk=int(member_id))
    except (User.DoesNotExist, ValueError, TypeError):
        raise AccessDenied("No such member") from None
    if not UsageRecord.objects.filter(scope.row_filter(), user_id=member.pk).exists():
        raise AccessDenied("No such member")
    return member


def access_exchange_rate(user: AnyUser, rate_id: int | str) -> ExchangeRate:
    """A rate ``user`` may change, or AccessDenied."""
    if not can_manage_exchange_rates(user):
        raise AccessDenied("No such exchange rate")
    try:
        return ExchangeRate.objects.get(pk=int(rate_id))
    except (ExchangeRate.DoesNotExist, ValueError, TypeError):
        raise AccessDenied("No such exchange rate") from None
