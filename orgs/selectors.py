"""Reads on the org chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from orgs.models import Department, Membership, Role, User

if TYPE_CHECKING:
    from collections.abc import Iterable


def department_subtree(department: Department) -> QuerySet[Department]:
    """The department and all its descendants (one prefix query on ``path``)."""
    return Department.objects.filter(
        organization_id=department.organization_id, path__startswith=department.path
    )


def department_ancestors(department: Department) -> list[Department]:
    """Root first, the department itself last."""
    ids = [int(part) for part in department.path.strip("/").split("/") if part]
    by_id = Department.objects.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def primary_membership(user: User) -> Membership | None:
    return (
        Membership.objects.select_related("department").filter(user=user, is_primary=True).first()
    )


def user_role_departments(user: User, role: str) -> list[Department]:
    """Departments where ``user`` holds ``role`` directly (not their subtrees)."""
    return [
        m.department
        for m in Membership.objects.select_related("department").filter(
            user=user, roles__contains=[role], department__is_active=True
        )
    ]


def subtree_filter(departments: Iterable[Department], *, field: str = "path") -> Q:
    """A Q matching rows whose ``field`` lies under any of ``departments``."""
    query = Q(pk__in=[])
    for department in departments:
        query |= Q(**{f"{field}__startswith": department.path})
    return query


def user_has_role(user: User, role: str) -> bool:
    return Membership.objects.filter(user=user, roles__contains=[role]).exists()


def is_platform_admin(user: User) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser) or user_has_role(user, Role.PLATFORM_ADMIN)


def member_list_for_departments(
    departments: QuerySet[Department], *, search: str = "", include_inactive: bool = True
) -> QuerySet[User]:
    """Users whose primary department lies in ``departments``, optionally searched
    by name or e-mail (case-insensitive, works for Hangul and Latin alike)."""
    users = User.objects.filter(
        memberships__is_primary=True, memberships__department__in=departments
    )
    if not include_inactive:
        users = users.filter(is_active=True)
    if search:
        users = users.filter(Q(name__icontains=search) | Q(email__icontains=search))
    return users.distinct().order_by("name", "email")
