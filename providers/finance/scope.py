"""What one reader may see of the ledger, resolved once per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

from orgs.models import User
from orgs.permissions import is_platform_admin, usage_departments

if TYPE_CHECKING:
    from orgs.permissions import AnyUser


@dataclass(frozen=True)
class DepartmentRef:
    id: int
    code: str
    name: str
    path: str
    parent_id: int | None

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/")

    def contains(self, other: DepartmentRef) -> bool:
        return other.path.startswith(self.path)

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


@dataclass(frozen=True)
class UsageScope:
    """Ledger rows of ``departments``; with ``everything`` (platform admins) also the
    rows that name no department, or one that no longer exists."""

    departments: tuple[DepartmentRef, ...]
    everything: bool = False

    def row_filter(self) -> Q:
        if self.everything:
            return Q()
        return Q(department_id__in=[department.id for department in self.departments])

    def department(self, department_id: int) -> DepartmentRef | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def narrowed_to(self, root: DepartmentRef) -> UsageScope:
        """``root`` and its descendants only (a reader's scope is closed under subtrees)."""
        return UsageScope(tuple(d for d in self.departments if root.contains(d)))

    def __bool__(self) -> bool:
        return self.everything or bool(self.departments)


def usage_scope_for(user: AnyUser) -> UsageScope:
    """The departments whose usage ``user`` may read (``orgs.permissions.usage_departments``),
    in org-chart order: siblings by name under their parent."""
    rows = list(usage_departments(user).values_list("id", "code", "name", "path", "parent_id"))
    names = {row[0]: row[2] for row in rows}

    def tree_key(row: tuple[int, str, str, str, int | None]) -> tuple[str, ...]:
        ids = [int(part) for part in row[3].strip("/").split("/") if part]
        return tuple(f"{names.get(i, '')}\x00{i:012d}" for i in ids)

    departments = tuple(DepartmentRef(*row) for row in sorted(rows, key=tree_key))
    return UsageScope(
        departments, everything=bool(rows) and isinstance(user, User) and is_platform_admin(user)
    )
