"""Who may do what, in one place (R3). Every view, API and consumer asks here.

Rules:
- platform admins may do everything;
- department admins manage their own department and its subtree;
- finance reads usage of the departments (subtrees) they are assigned to;
- everyone else sees only themselves.
Getters named ``access_<thing>`` return the object or raise ``AccessDenied``,
which interfaces render as 404 so that existence is not leaked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from orgs.errors import AccessDenied
from orgs.models import Department, Role, User
from orgs.selectors import (
    is_platform_admin,
    primary_membership,
    subtree_filter,
    user_role_departments,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    AnyUser = User | AnonymousUser

__all__ = [
    "access_department",
    "access_member",
    "can_grant_role",
    "can_import_org_chart",
    "can_manage_department",
    "can_manage_member",
    "can_manage_sso",
    "can_read_usage",
    "can_view_audit",
    "is_platform_admin",
    "managed_departments",
    "usage_departments",
]


def _active(user: AnyUser) -> User | None:
    if not user.is_authenticated or not user.is_active:
        return None
    assert isinstance(user, User)  # noqa: S101 - narrows the type for mypy
    return user


def managed_departments(user: AnyUser) -> QuerySet[Department]:
    """Departments ``user`` may administer: every one for platform admins, else the
    subtrees under their ``dept_admin`` memberships."""
    actor = _active(user)
    if actor is None:
        return Department.objects.none()
    if is_platform_admin(actor):
        return Department.objects.all()
    roots = user_role_departments(actor, Role.DEPT_ADMIN)
    if not roots:
        return Department.objects.none()
    return Department.objects.filter(subtree_filter(roots))


def usage_departments(user: AnyUser) -> QuerySet[Department]:
    """Departments whose usage and cost ``user`` may read."""
    actor = _active(user)
    if actor is None:
        return Department.objects.none()
    if is_platform_admin(actor):
        return Department.objects.all()
    roots = user_role_departments(actor, Role.FINANCE) + user_role_departments(
        actor, Role.DEPT_ADMIN
    )
    if not roots:
        return Department.objects.none()
    return Department.objects.filter(subtree_filter(roots))


def access_department(user: AnyUser, department_id: int | str) -> Department:
    """A department the user may administer, or AccessDenied."""
    try:
        return managed_departments(user).get(pk=int(department_id))
    except (Department.DoesNotExist, ValueError, TypeError):
        raise AccessDenied("No such department") from None


def can_manage_department(user: AnyUser, department: Department) -> bool:
    return managed_departments(user).filter(pk=department.pk).exists()


def can_read_usage(user: AnyUser, department: Department) -> bool:
    return usage_departments(user).filter(pk=department.pk).exists()


def can_manage_member(user: AnyUser, member: User) -> bool:
    """Admins manage people whose primary department is in their subtree, never themselves
    (so nobody can lift their own restrictions); platform admins manage everyone else."""
    actor = _active(user)
    if actor is None or actor.pk == member.pk:
        return False
    if is_platform_admin(actor):
        return True
    if is_platform_admin(member):
        return False
    membership = primary_membership(member)
    return membership is not None and can_manage_department(actor, membership.department)


def access_member(user: AnyUser, member_id: int | str) -> User:
    """A user ``user`` may manage, or AccessDenied."""
    try:
        member = User.objects.get(pk=int(member_id))
    except (User.DoesNotExist, ValueError, TypeError):
        raise AccessDenied("No such member") from None
    if not can_manage_member(user, member):
        raise AccessDenied("No such member")
    return member


def can_grant_role(user: AnyUser, role: str, department: Department) -> bool:
    """Department admins may grant member and dept_admin inside their subtree; finance and
    platform_admin are granted by platform admins only."""
    actor = _active(user)
    if actor is None:
        return False
    if is_platform_admin(actor):
        return True
    if role not in (Role.MEMBER, Role.DEPT_ADMIN):
        return False
    return can_manage_department(actor, department)


def can_view_audit(user: AnyUser) -> bool:
    actor = _active(user)
    return actor is not None and is_platform_admin(actor)


def can_import_org_chart(user: AnyUser) -> bool:
    return can_view_audit(user)


def can_manage_sso(user: AnyUser) -> bool:
    return can_view_audit(user)
