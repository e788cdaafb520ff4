"""Apply a mapping decision to a user at sign-in, and keep the sync log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from orgs.errors import OrgError
from orgs.models import (
    ClaimMappingRule,
    Department,
    Group,
    Organization,
    SsoSync,
    User,
)
from orgs.selectors import primary_membership
from orgs.services import membership_set_primary

if TYPE_CHECKING:
    from orgs.audit import RequestContext
    from orgs.sso.mapping import MappingDecision


def sso_organization() -> Organization | None:
    """The organization SSO sign-ins belong to: SSO_ORGANIZATION, else the only one."""
    from django.conf import settings

    if settings.SSO_ORGANIZATION:
        return Organization.objects.filter(slug=settings.SSO_ORGANIZATION).first()
    organizations = list(Organization.objects.all()[:2])
    return organizations[0] if len(organizations) == 1 else None


def sso_rules(organization: Organization | None) -> list[ClaimMappingRule]:
    if organization is None:
        return []
    return list(organization.claim_rules.all())


def _roles_managed_by_idp(rules: list[ClaimMappingRule]) -> bool:
    return any(
        rule.action == ClaimMappingRule.Action.GRANT_ROLE for rule in rules if rule.is_enabled
    )


@transaction.atomic
def sso_sync_apply(
    *,
    user: User,
    decision: MappingDecision,
    organization: Organization | None,
    rules: list[ClaimMappingRule],
    provider: str,
    email: str,
    name: str,
    created: bool,
    context: RequestContext | None = None,
) -> SsoSync:
    """Make the user's department, roles and SSO-managed groups follow ``decision``.

    Roles follow the IdP only when some rule grants roles; otherwise the roles
    from the org chart stay. Groups not managed by SSO are never touched.
    """
    changes: list[str] = []
    problems: list[str] = []
    if name and user.name != name:
        changes.append(f"name: {user.name or '-'} → {name}")
        user.name = name
    if organization is not None and user.organization_id != organization.pk:
        changes.append(f"organization → {organization.slug}")
        user.organization = organization
    user.save(update_fields=["name", "organization"])

    current = primary_membership(user)
    department = current.department if current else None
    if decision.department_code and organization is not None:
        target = Department.objects.filter(
            organization=organization, code=decision.department_code, is_active=True
        ).first()
        if target is None:
            problems.append(f"unknown department code {decision.department_code!r}; not moved")
        else:
            department = target
    current_roles = sorted(current.roles) if current else []
    roles = decision.roles if _roles_managed_by_idp(rules) else (current_roles or decision.roles)
    if department is not None:
        if current is None or current.department_id != department.pk:
            changes.append(
                f"department: {current.department.code if current else '-'} → {department.code}"
            )
        if sorted(set(roles) | {"member"}) != current_roles:
            changes.append(f"roles: {', '.join(current_roles) or '-'} → {', '.join(roles)}")
        try:
            membership_set_primary(
                user=user, department=department, roles=roles, actor=None, context=context
            )
        except OrgError as exc:
            problems.append(exc.message)
    elif current is None:
        problems.append("no department could be determined from the claims")

    if organization is not None:
        changes.extend(_sync_groups(user, organization, decision.groups))

    return SsoSync.objects.create(
        user=user,
        email=email,
        provider=provider,
        outcome=SsoSync.Outcome.APPLIED,
        created_user=created,
        changes=changes,
        message="; ".join(problems),
    )


def _sync_groups(user: User, organization: Organization, wanted: list[str]) -> list[str]:
    changes = []
    have = set(
        user.org_groups.filter(organization=organization, managed_by_sso=True).values_list(
            "name", flat=True
        )
    )
    for group_name in sorted(set(wanted) - have):
        group, _ = Group.objects.get_or_create(
            organization=organization, name=group_name, defaults={"managed_by_sso": True}
        )
        group.members.add(user)
        changes.append(f"group + {group_name}")
    for group_name in sorted(have - set(wanted)):
        Group.objects.get(organization=organization, name=group_name).members.remove(user)
        changes.append(f"group - {group_name}")
    return changes


def sso_denied_record(*, user: User | None, email: str, provider: str, message: str) -> SsoSync:
    return SsoSync.objects.create(
        user=user, email=email, provider=provider, outcome=SsoSync.Outcome.DENIED, message=message
    )
