"""Reads on the org chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from orgs.models import AuditEvent, Department, Membership, Role, User

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator


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


def primary_department_id(user_id: int) -> int | None:
    """The id alone (no model instances): every gateway call of a person asks it."""
    found: int | None = (
        Membership.objects.filter(user_id=user_id, is_primary=True)
        .values_list("department_id", flat=True)
        .first()
    )
    return found


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


@dataclass(frozen=True)
class AuditEventFilters:
    """What the audit viewer narrows the trail by; empty values do not filter.
    Dates are calendar days in the site's time zone, both ends included."""

    actor: str = ""
    department: Department | None = None
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_event_list(filters: AuditEventFilters) -> QuerySet[AuditEvent]:
    """Audit events matching ``filters``, newest first, with actor and department
    joined. The caller has checked ``can_view_audit``."""
    events = AuditEvent.objects.select_related("actor", "department").order_by("-seq")
    if filters.actor:
        events = events.filter(
            Q(actor_email__icontains=filters.actor) | Q(actor__name__icontains=filters.actor)
        )
    if filters.department is not None:
        events = events.filter(department=filters.department)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.date_from is not None:
        events = events.filter(created_at__gte=_start_of_day(filters.date_from))
    if filters.date_to is not None:
        events = events.filter(created_at__lt=_start_of_day(filters.date_to + timedelta(days=1)))
    return events


def audit_event_batches(
    filters: AuditEventFilters, *, batch_size: int
) -> Iterator[list[AuditEvent]]:
    """``audit_event_list(filters)`` in lists of ``batch_size``, newest first.

    Each batch is its own short query continuing below the last seq seen (keyset
    pagination), so a long export holds no cursor or transaction open between
    batches and can be resumed from any thread.
    """
    events = audit_event_list(filters)
    before: int | None = None
    while True:
        page = events if before is None else events.filter(seq__lt=before)
        batch = list(page[:batch_size])
        if not batch:
            return
        yield batch
        before = batch[-1].seq


def audit_action_list() -> list[str]:
    """The distinct actions in the audit trail, sorted.

    A plain ``SELECT DISTINCT`` reads every row of a table that only grows; this
    recursive query hops from one action to the next through the ``action`` index
    instead (a loose index scan), one index probe per distinct action.
    """
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = f"""
        WITH RECURSIVE actions(action) AS (
            (SELECT action FROM {table} ORDER BY action LIMIT 1)
            UNION ALL
            SELECT (
                SELECT e.action FROM {table} e
                WHERE e.action > actions.action ORDER BY e.action LIMIT 1
            )
            FROM actions WHERE actions.action IS NOT NULL
        )
        SELECT action FROM actions WHERE action IS NOT NULL
    """  # noqa: S608 - the only interpolation is our own quoted table name
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]
