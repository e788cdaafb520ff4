"""Who may read and change PII policy rules (R3).

Platform admins: every rule, including the organisation-wide ones. Department
admins: rules of the departments they manage (their subtrees), and they see the
rules inherited from above read-only. Everyone else: nothing (404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgs.errors import AccessDenied
from orgs.models import User
from orgs.permissions import is_platform_admin, managed_departments
from providers.pii.models import PiiPolicy

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def _platform_admin(user: User | AnonymousUser) -> bool:
    return isinstance(user, User) and is_platform_admin(user)


def can_view_pii_policies(user: User | AnonymousUser) -> bool:
    return _platform_admin(user) or managed_departments(user).exists()


def can_manage_org_wide_pii(user: User | AnonymousUser) -> bool:
    """Organisation-wide rules (no department) are the platform admins' alone."""
    return _platform_admin(user)


def can_edit_pii_policy(user: User | AnonymousUser, policy: PiiPolicy) -> bool:
    if policy.department_id is None:
        return can_manage_org_wide_pii(user)
    return managed_departments(user).filter(pk=policy.department_id).exists()


def access_pii_policy(user: User | AnonymousUser, policy_id: int | str) -> PiiPolicy:
    """A rule ``user`` may change, or AccessDenied."""
    try:
        policy = PiiPolicy.objects.select_related("department").get(pk=int(policy_id))
    except (PiiPolicy.DoesNotExist, ValueError, TypeError):
        raise AccessDenied("No such rule") from None
    if not can_edit_pii_policy(user, policy):
        raise AccessDenied("No such rule")
    return policy
