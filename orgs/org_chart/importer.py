"""The steps of one org chart import: make the database match the chart.

Applying makes the organization match the file for what the file lists: department names
and parents; users' organization, name, primary department, roles and extra memberships
within the organization. Departments absent from the file are left as they are (reported as
"not in file"). Users absent from the file are deactivated only when asked to
(``deactivate_missing``), never the actor and never a superuser without any membership
(the bootstrap admin); they are reactivated when they reappear.

The transaction, the lock and the dry run are ``orgs.org_chart.apply``'s job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q
from django.db.models.functions import Lower

from orgs.audit import audit_record
from orgs.models import Department, Membership, Organization, Role, User
from orgs.org_chart.types import DepartmentSpec, ImportResult, OrgChart, UserSpec
from orgs.services import (
    department_create,
    department_move,
    membership_set_extra,
    membership_set_primary,
    user_deactivate,
    user_reactivate,
)

if TYPE_CHECKING:
    from orgs.audit import RequestContext


def _wanted_extras(spec: UserSpec) -> dict[str, list[str]]:
    """Department code → the user's extra roles there, as the file says."""
    wanted: dict[str, list[str]] = {}
    for code in spec.finance_of:
        wanted.setdefault(code, []).append(Role.FINANCE.value)
    for code in spec.admin_of:
        wanted.setdefault(code, []).append(Role.DEPT_ADMIN.value)
    return {code: sorted(roles) for code, roles in wanted.items()}


def _extras_text(extras: dict[str, list[str]]) -> str:
    return "; ".join(f"{code}: {', '.join(roles)}" for code, roles in sorted(extras.items())) or "-"


class OrgChartImport:
    """One run of an import; ``run`` does the work inside the caller's transaction."""

    def __init__(
        self,
        chart: OrgChart,
        *,
        actor: User | None,
        context: RequestContext | None,
        dry_run: bool,
    ) -> None:
        self.chart = chart
        self.actor = actor
        self.context = context
        self.result = ImportResult(organization=chart.organization.slug, dry_run=dry_run)
        self.departments: dict[str, Department] = {}

    def change(self, line: str) -> None:
        self.result.changes.append(line)

    def audit(
        self, action: str, target: Organization | Department | User, **details: object
    ) -> None:
        department = target if isinstance(target, Department) else None
        audit_record(
            actor=self.actor,
            action=action,
            target=target,
            department=department,
            details={"source": "org_chart", **details},
            context=self.context,
        )

    def run(self, *, deactivate_missing: bool) -> ImportResult:
        organization = self.organization()
        self.sync_departments(organization)
        self.sync_users(organization)
        if deactivate_missing:
            self.deactivate_missing(organization)
        audit_record(
            actor=self.actor,
            action="org_chart.import",
            target=organization,
            details={
                "file": self.chart.filename,
                "deactivate_missing": deactivate_missing,
                **self.result.counts(),
            },
            context=self.context,
        )
        return self.result

    def organization(self) -> Organization:
        spec = self.chart.organization
        organization = Organization.objects.filter(slug=spec.slug).first()
        if organization is None:
            organization = Organization.objects.create(slug=spec.slug, name=spec.name)
            self.audit("organization.create", organization, name=spec.name)
            self.result.organization_created = 1
            self.change(f"organization {spec.slug} {spec.name}: created")
        elif organization.name != spec.name:
            self.change(f"organization {spec.slug}: renamed {organization.name} → {spec.name}")
            organization.name = spec.name
            organization.save(update_fields=["name"])
            self.audit("organization.update", organization, name=spec.name)
            self.result.organization_updated = 1
        return organization

    def sync_departments(self, organization: Organization) -> None:
        """Parents first, so each parent exists and sits where the file puts it. A parent is
        re-read before use: moving an ancestor rewrites its path in the database."""
        existing = {d.code: d for d in Department.objects.filter(organization=organization)}
        codes = {d.pk: d.code for d in existing.values()}
        result = self.result
        for spec in self.chart.departments:
            parent = self.departments[spec.parent] if spec.parent else None
            if parent is not None:
                parent.refresh_from_db(fields=["path"])
            department = existing.get(spec.code)
            if department is None:
                department = department_create(
                    organization=organization,
                    code=spec.code,
                    name=spec.name,
                    parent=parent,
                    actor=self.actor,
                )
                codes[department.pk] = spec.code
                result.departments_created += 1
                under = f" under {parent.code}" if parent else ""
                self.change(f"department {spec.code} {spec.name}: created{under}")
            else:
                self.update_department(department, spec)
                if department.parent_id != (parent.pk if parent else None):
                    old = codes.get(department.parent_id or 0, "-")
                    department = department_move(
                        department=department, new_parent=parent, actor=self.actor
                    )
                    result.departments_moved += 1
                    new = parent.code if parent else "-"
                    self.change(f"department {spec.code}: moved from {old} to {new}")
            self.departments[spec.code] = department
        for code, department in existing.items():
            if code not in self.departments:
                result.departments_not_in_file.append(code)
                result.notes.append(f"department {code} {department.name}: not in file, left as is")

    def update_department(self, department: Department, spec: DepartmentSpec) -> None:
        updated = []
        if department.name != spec.name:
            self.change(f"department {spec.code}: renamed {department.name} → {spec.name}")
            department.name = spec.name
            updated.append("name")
        if not department.is_active:
            self.change(f"department {spec.code}: reactivated")
            department.is_active = True
            updated.append("is_active")
        if updated:
            department.save(update_fields=updated)
            self.audit("department.update", department, fields=updated)
            self.result.departments_updated += 1

    def sync_users(self, organization: Organization) -> None:
        emails = [spec.email for spec in self.chart.users]
        existing = {
            user.email.lower(): user
            for user in User.objects.annotate(email_lower=Lower("email")).filter(
                email_lower__in=emails
            )
        }
        memberships: dict[int, list[Membership]] = {}
        for membership in Membership.objects.filter(user__in=existing.values()).select_related(
            "department"
        ):
            memberships.setdefault(membership.user_id, []).append(membership)
        for spec in self.chart.users:
            user = existing.get(spec.email)
            department = self.departments[spec.department]
            if user is None:
                self.create_user(organization, spec, department)
                continue
            self.update_user(organization, user, spec)
            held = memberships.get(user.pk, [])
            primary = next((m for m in held if m.is_primary), None)
            extras = [
                m
                for m in held
                if not m.is_primary and m.department.organization_id == organization.pk
            ]
            changed = self.place_user(user, spec, department, primary)
            if self.set_extras(user, spec, extras, primary=department) or changed:
                self.result.users_roles_changed += 1

    def create_user(
        self, organization: Organization, spec: UserSpec, department: Department
    ) -> None:
        user = User.objects.create_user(
            spec.email, spec.password, name=spec.name, organization=organization
        )
        self.audit("user.create", user, department=spec.department)
        membership_set_primary(
            user=user,
            department=department,
            roles=spec.roles,
            actor=self.actor,
            context=self.context,
        )
        self.result.users_created += 1
        roles = ", ".join(spec.roles)
        extras = _wanted_extras(spec)
        also = f"; extra roles {_extras_text(extras)}" if extras else ""
        self.change(f"user {spec.email} {spec.name}: created in {spec.department} ({roles}){also}")
        self.set_extras(user, spec, [], primary=department, report=False)

    def update_user(self, organization: Organization, user: User, spec: UserSpec) -> None:
        updated = []
        if user.name != spec.name:
            self.change(f"user {spec.email}: renamed {user.name or '-'} → {spec.name}")
            user.name = spec.name
            updated.append("name")
        if user.organization_id != organization.pk:
            self.change(f"user {spec.email}: joined organization {organization.slug}")
            user.organization = organization
            updated.append("organization")
        if spec.password and not user.has_usable_password():
            self.change(f"user {spec.email}: password set")
            user.set_password(spec.password)
            updated.append("password")
        if updated:
            user.save(update_fields=updated)
            self.audit("user.update", user, fields=updated)
            self.result.users_updated += 1
        if user.is_active:
            return
        if user.deactivated_reason == User.Deactivation.ORG_CHART:
            user_reactivate(user=user, actor=self.actor, context=self.context)
            self.result.users_reactivated += 1
            self.change(f"user {spec.email}: reactivated")
        else:
            reason = user.deactivated_reason or "-"
            self.result.notes.append(f"user {spec.email}: stays deactivated (reason: {reason})")

    def place_user(
        self, user: User, spec: UserSpec, department: Department, primary: Membership | None
    ) -> bool:
        """Primary department and roles; True when the roles changed."""
        roles = list(spec.roles)
        moved = primary is None or primary.department_id != department.pk
        roles_changed = primary is not None and sorted(primary.roles) != roles
        if not (moved or roles_changed):
            return False
        membership_set_primary(
            user=user, department=department, roles=roles, actor=self.actor, context=self.context
        )
        if moved:
            self.result.users_moved += 1
            old = primary.department.code if primary is not None else "-"
            self.change(f"user {spec.email}: moved from {old} to {department.code}")
        if roles_changed and primary is not None:
            old_roles = ", ".join(sorted(primary.roles))
            self.change(f"user {spec.email}: roles {old_roles} → {', '.join(roles)}")
        return roles_changed

    def set_extras(
        self,
        user: User,
        spec: UserSpec,
        current: list[Membership],
        *,
        primary: Department,
        report: bool = True,
    ) -> bool:
        """Extra memberships (finance_of, admin_of) within the organization, exactly as the
        file says; True when they changed. An extra membership in the (new) primary
        department was already replaced by the primary one."""
        wanted = _wanted_extras(spec)
        held = {m.department.code: sorted(set(m.roles) - {Role.MEMBER.value}) for m in current}
        if wanted == held:
            return False
        departments = {m.department.code: m.department for m in current}
        for code in sorted(wanted.keys() | held.keys()):
            if wanted.get(code) != held.get(code) and code != primary.code:
                membership_set_extra(
                    user=user,
                    department=self.departments.get(code) or departments[code],
                    roles=wanted.get(code, []),
                    actor=self.actor,
                )
        if report:
            old, new = _extras_text(held), _extras_text(wanted)
            self.change(f"user {spec.email}: extra roles {old} → {new}")
        return True

    def deactivate_missing(self, organization: Organization) -> None:
        listed = {spec.email for spec in self.chart.users}
        in_organization = Membership.objects.filter(department__organization=organization)
        candidates = User.objects.filter(is_active=True).filter(
            Q(organization=organization) | Q(pk__in=in_organization.values("user_id"))
        )
        with_membership = set(
            Membership.objects.filter(user__in=candidates).values_list("user_id", flat=True)
        )
        for user in candidates.order_by("email"):
            if user.email.lower() in listed:
                continue
            if self.actor is not None and user.pk == self.actor.pk:
                self.result.notes.append(f"user {user.email}: not in file, but runs the import")
            elif user.is_superuser and user.pk not in with_membership:
                self.result.notes.append(f"user {user.email}: not in file, bootstrap admin")
            else:
                user_deactivate(
                    user=user,
                    reason=User.Deactivation.ORG_CHART,
                    actor=self.actor,
                    context=self.context,
                )
                self.result.users_deactivated += 1
                self.change(f"user {user.email}: deactivated (not in file)")
