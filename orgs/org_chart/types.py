"""The typed org chart that parsing produces and the result that applying returns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class OrganizationSpec:
    slug: str
    name: str


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    parent: str | None
    line: int


@dataclass(frozen=True)
class UserSpec:
    email: str
    name: str
    department: str
    roles: tuple[str, ...]
    password: str | None = field(repr=False)
    finance_of: tuple[str, ...]
    admin_of: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class OrgChart:
    filename: str
    organization: OrganizationSpec
    departments: tuple[DepartmentSpec, ...]  # parents before their children
    users: tuple[UserSpec, ...]


@dataclass
class ImportResult:
    """What an import changed (or, for a dry run, would change). ``changes`` has one
    human-readable line per change; ``notes`` what was deliberately left as it is."""

    organization: str
    dry_run: bool
    organization_created: int = 0
    organization_updated: int = 0
    departments_created: int = 0
    departments_updated: int = 0
    departments_moved: int = 0
    users_created: int = 0
    users_updated: int = 0
    users_moved: int = 0
    users_roles_changed: int = 0
    users_deactivated: int = 0
    users_reactivated: int = 0
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    departments_not_in_file: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        # Field types are strings here (``from __future__ import annotations``).
        return {f.name: getattr(self, f.name) for f in fields(self) if f.type == "int"}

    @property
    def total_changes(self) -> int:
        return sum(self.counts().values())
