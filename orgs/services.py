"""Writes on people and the organization. Permission is checked by the caller (R2)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr

from orgs.audit import RequestContext, audit_record
from orgs.errors import OrgError
from orgs.models import Department, DepartmentMove, Membership, Organization, Role, User
from orgs.signals import user_access_revoked, user_permissions_changed

if TYPE_CHECKING:
    from collections.abc import Iterable

VALID_ROLES = frozenset(Role.values)


@dataclass(frozen=True)
class PlatformAdminResult:
    user: User
    created: bool
    generated_password: str | None


@transaction.atomic
def platform_admin_ensure(*, email: str, password: str | None) -> PlatformAdminResult:
    """Create the first platform admin unless that account exists already.

    An existing account is left as it is (its password is never reset), so that
    re-running the set-up keeps what the admin changed. A missing password is
    generated and returned once so the caller can show it.
    """
    email = email.strip().lower()
    existing = (
        User.objects.filter(email=email).first()
        or User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    )
    if existing is not None:
        # Only the first one: later admins come from the org chart or the IdP.
        return PlatformAdminResult(user=existing, created=False, generated_password=None)
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    user = User.objects.create_superuser(email, password, name="Platform admin")
    audit_record(actor=None, action="user.create", target=user, details={"platform_admin": True})
    return PlatformAdminResult(user=user, created=True, generated_password=generated)


def _notify_permissions_changed(user: User) -> None:
    user_id = user.pk
    transaction.on_commit(lambda: user_permissions_changed.send(sender=User, user_id=user_id))


@transaction.atomic
def department_create(
    *,
    organization: Organization,
    code: str,
    name: str,
    parent: Department | None,
    actor: User | None = None,
) -> Department:
    if parent is not None:
        # The caller's copy may predate a move earlier in this transaction: re-read it, locked.
        parent = Department.objects.select_for_update().get(pk=parent.pk)
    department = Department.objects.create(
        organization=organization, code=code, name=name, parent=parent, path=""
    )
    prefix = parent.path if parent is not None else "/"
    department.path = f"{prefix}{department.pk}/"
    department.save(update_fields=["path"])
    audit_record(
        actor=actor,
        action="department.create",
        target=department,
        department=department,
        details={"code": code, "name": name, "parent": parent.code if parent else None},
    )
    return department


@transaction.atomic
def department_move(
    *, department: Department, new_parent: Department | None, actor: User | None = None
) -> Department:
    """Re-parent ``department``; descendants' paths follow in one UPDATE; history kept."""
    department = Department.objects.select_for_update().get(pk=department.pk)
    if new_parent is not None:
        new_parent = Department.objects.select_for_update().get(pk=new_parent.pk)
    if department.parent_id == (new_parent.pk if new_parent else None):
        return department
    if new_parent is not None and new_parent.path.startswith(department.path):
        raise OrgError(f"{department.code} cannot move under its own subtree ({new_parent.code})")
    old_parent = department.parent
    old_path = department.path
    new_path = f"{new_parent.path if new_parent else '/'}{department.pk}/"
    Department.objects.filter(
        organization_id=department.organization_id, path__startswith=old_path
    ).update(path=Concat(Value(new_path), Substr("path", len(old_path) + 1)))
    department.refresh_from_db()
    department.parent = new_parent
    department.save(update_fields=["parent"])
    DepartmentMove.objects.create(
        department=department, old_parent=old_parent, new_parent=new_parent, actor=actor
    )
    audit_record(
        actor=actor,
        action="department.move",
        target=department,
        department=department,
        details={
            "from": old_parent.code if old_parent else None,
            "to": new_parent.code if new_parent else None,
        },
    )
    return department


def _clean_roles(roles: Iterable[str]) -> list[str]:
    cleaned = sorted(set(roles) | {Role.MEMBER})
    unknown = set(cleaned) - VALID_ROLES
    if unknown:
        raise OrgError(f"Unknown role(s): {', '.join(sorted(unknown))}")
    return cleaned


@transaction.atomic
def membership_set_primary(
    *,
    user: User,
    department: Department,
    roles: Iterable[str] | None = None,
    actor: User | None = None,
    context: RequestContext | None = None,
) -> Membership:
    """Place ``user`` in ``department`` (moving them if needed), optionally with ``roles``."""
    current = Membership.objects.select_for_update().filter(user=user, is_primary=True).first()
    old_department = current.department if current else None
    old_roles = list(current.roles) if current else []
    new_roles = _clean_roles(roles if roles is not None else old_roles or [Role.MEMBER])
    if current is not None and current.department_id == department.pk:
        membership = current
    else:
        if current is not None:
            current.delete()
        # A secondary membership in the target becomes the primary one.
        Membership.objects.filter(user=user, department=department).delete()
        membership = Membership.objects.create(
            user=user, department=department, roles=new_roles, is_primary=True
        )
        audit_record(
            actor=actor,
            action="membership.move",
            target=user,
            department=department,
            details={
                "from": old_department.code if old_department else None,
                "to": department.code,
            },
            context=context,
        )
    if sorted(membership.roles) != new_roles or membership.pk is None:
        membership.roles = new_roles
        membership.save(update_fields=["roles", "updated_at"])
    if new_roles != sorted(old_roles) and old_roles != []:
        audit_record(
            actor=actor,
            action="membership.roles",
            target=user,
            department=department,
            details={"from": sorted(old_roles), "to": new_roles},
            context=context,
        )
    _sync_platform_admin_flag(user)
    _notify_permissions_changed(user)
    return membership


@transaction.atomic
def membership_set_extra(
    *,
    user: User,
    department: Department,
    roles: Iterable[str],
    actor: User | None = None,
) -> Membership | None:
    """Roles over a department that is not the user's own (e.g. finance for HR).
    Empty ``roles`` removes the extra membership."""
    existing = Membership.objects.filter(user=user, department=department).first()
    if existing is not None and existing.is_primary:
        raise OrgError("Use membership_set_primary for the user's own department")
    wanted = sorted(set(roles) - {Role.MEMBER})
    if not wanted:
        if existing is not None:
            existing.delete()
            audit_record(
                actor=actor,
                action="membership.extra_remove",
                target=user,
                department=department,
                details={"roles": existing.roles},
            )
            _sync_platform_admin_flag(user)
            _notify_permissions_changed(user)
        return None
    _clean_roles(wanted)
    if existing is not None and sorted(existing.roles) == wanted:
        return existing
    membership, _ = Membership.objects.update_or_create(
        user=user, department=department, defaults={"roles": wanted, "is_primary": False}
    )
    audit_record(
        actor=actor,
        action="membership.extra_set",
        target=user,
        department=department,
        details={"roles": wanted},
    )
    _sync_platform_admin_flag(user)
    _notify_permissions_changed(user)
    return membership


def _sync_platform_admin_flag(user: User) -> None:
    """The platform_admin role is what opens the Django admin (is_staff/is_superuser)."""
    has_role = Membership.objects.filter(user=user, roles__contains=[Role.PLATFORM_ADMIN]).exists()
    if has_role and not (user.is_staff and user.is_superuser):
        User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
        user.is_staff = user.is_superuser = True
    elif not has_role and user.is_superuser and Membership.objects.filter(user=user).exists():
        # Only accounts managed through the org chart lose the flag with the role; the
        # bootstrap admin (no membership) keeps it.
        User.objects.filter(pk=user.pk).update(is_staff=False, is_superuser=False)
        user.is_staff = user.is_superuser = False


@transaction.atomic
def user_deactivate(
    *,
    user: User,
    reason: str,
    actor: User | None = None,
    context: RequestContext | None = None,
) -> User:
    """Block the user at their next request and close their open websockets."""
    if not user.is_active and user.deactivated_reason == reason:
        return user
    user.is_active = False
    user.deactivated_reason = reason
    user.save(update_fields=["is_active", "deactivated_reason"])
    audit_record(
        actor=actor,
        action="user.deactivate",
        target=user,
        details={"reason": reason},
        context=context,
    )
    user_id = user.pk
    transaction.on_commit(
        lambda: user_access_revoked.send(sender=User, user_id=user_id, reason=reason)
    )
    return user


@transaction.atomic
def user_reactivate(
    *, user: User, actor: User | None = None, context: RequestContext | None = None
) -> User:
    if user.is_active:
        return user
    user.is_active = True
    user.deactivated_reason = User.Deactivation.NONE
    user.save(update_fields=["is_active", "deactivated_reason"])
    audit_record(actor=actor, action="user.reactivate", target=user, context=context)
    return user


@transaction.atomic
def member_add(
    *,
    email: str,
    name: str,
    department: Department,
    roles: Iterable[str],
    actor: User,
    context: RequestContext | None = None,
) -> User:
    """Create an employee account in ``department``. They sign in through SSO (matched by
    e-mail) or after a platform admin sets a local password."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise OrgError(f"{email} already has an account")
    user = User.objects.create_user(email, None, name=name, organization=department.organization)
    audit_record(
        actor=actor, action="user.create", target=user, department=department, context=context
    )
    membership_set_primary(
        user=user, department=department, roles=roles, actor=actor, context=context
    )
    return user
