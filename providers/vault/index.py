"""The per-process index of who has a registered key for which provider (ids only,
never a secret), so the gateway answers "no key" for most callers without a query.

Reloaded after ``TTL_SECONDS`` (other processes' changes arrive within it; an async
server reloads beside its requests, see ``providers.reloading``), and dropped at
once in this process by the vault's services after they commit. Created
by ``VaultConfig.ready()`` and reached through ``get_credential_index()`` (R8).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.apps import apps
from django.db.models import Q

from orgs.models import Department
from orgs.selectors import subtree_filter
from providers.reloading import Reloading

if TYPE_CHECKING:
    from uuid import UUID

TTL_SECONDS = 5.0
TOUCH_INTERVAL_SECONDS = 60.0


@dataclass(frozen=True)
class Candidate:
    credential_id: UUID
    owner_kind: str  # "user" or "department"


@dataclass(frozen=True)
class IndexSnapshot:
    by_user: dict[int, dict[str, UUID]] = field(default_factory=dict)
    by_department: dict[int, dict[str, UUID]] = field(default_factory=dict)
    # For each department under a department that has a key: itself, then its
    # ancestors, nearest first. Departments outside every such subtree are absent.
    chains: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def candidates(
        self, *, user_id: int | None, department_id: int | None, provider: str
    ) -> list[Candidate]:
        """Credentials that may apply, in precedence order: the caller's own, then
        their department's, then each ancestor's up to the root."""
        found: list[Candidate] = []
        if user_id is not None:
            own = self.by_user.get(user_id, {}).get(provider)
            if own is not None:
                found.append(Candidate(own, "user"))
        if department_id is not None:
            for dept in self.chains.get(department_id, ()):
                shared = self.by_department.get(dept, {}).get(provider)
                if shared is not None:
                    found.append(Candidate(shared, "department"))
        return found


def snapshot_load() -> IndexSnapshot:
    """Two small queries: the active credentials, then the subtrees their departments
    cover (only when some department has a key)."""
    from providers.vault.models import ProviderCredential

    rows = ProviderCredential.objects.filter(revoked_at__isnull=True).filter(
        Q(owner_user__is_active=True) | Q(owner_department__is_active=True)
    )
    by_user: dict[int, dict[str, UUID]] = {}
    by_department: dict[int, dict[str, UUID]] = {}
    for pk, user_id, department_id, provider in rows.values_list(
        "pk", "owner_user_id", "owner_department_id", "provider"
    ):
        if user_id is not None:
            by_user.setdefault(user_id, {})[provider] = pk
        elif department_id is not None:
            by_department.setdefault(department_id, {})[provider] = pk
    chains: dict[int, tuple[int, ...]] = {}
    if by_department:
        roots = Department.objects.filter(pk__in=by_department, is_active=True).only("path")
        covered = Department.objects.filter(subtree_filter(roots), is_active=True)
        for dept_id, path in covered.values_list("pk", "path"):
            ids = [int(part) for part in path.strip("/").split("/") if part]
            chains[dept_id] = tuple(reversed(ids))
    return IndexSnapshot(by_user, by_department, chains)


class CredentialIndex:
    def __init__(self) -> None:
        self._index = Reloading("credential index", snapshot_load, max_age=TTL_SECONDS)
        self._touched: dict[UUID, float] = {}

    def current_sync(self) -> IndexSnapshot:
        return self._index.get()

    async def current(self) -> IndexSnapshot:
        return self._index.fresh() or await self._index.aget()

    def invalidate(self) -> None:
        self._index.invalidate()

    def touch_due(self, credential_id: UUID) -> bool:
        """True at most once a minute per credential: time to record ``last_used_at``."""
        now = time.monotonic()
        last = self._touched.get(credential_id)
        if last is not None and now - last < TOUCH_INTERVAL_SECONDS:
            return False
        if len(self._touched) > 10_000:
            self._touched.clear()
        self._touched[credential_id] = now
        return True


def get_credential_index() -> CredentialIndex:
    config = apps.get_app_config("vault")
    index: CredentialIndex = config.index  # type: ignore[attr-defined]
    return index
