"""The gateway's question on every external call: does this caller bring their own
key for this provider? Answered from the per-process index (no query for callers
without one); only a matching row is fetched and opened, in memory, for the call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async

from providers.vault.index import get_credential_index
from providers.vault.models import ProviderCredential
from providers.vault.schema import BYOK_PROVIDERS
from providers.vault.services import credential_open, credential_touch

if TYPE_CHECKING:
    from uuid import UUID

    from providers.vault.index import Candidate


@dataclass(frozen=True)
class OpenedCredential:
    """A decrypted key for one call. ``secrets`` uses the gateway's parameter names
    (``api_key``; ``aws_access_key_id``, ``aws_secret_access_key``,
    ``aws_session_token``; ``vertex_credentials``) and is kept out of ``repr``."""

    credential_id: UUID
    owner_kind: str  # "user" or "department"
    secrets: dict[str, str] = field(repr=False)
    last4: str


async def abyok_credentials(
    *, user_id: int | None, department_id: int | None, provider: str
) -> OpenedCredential | None:
    """The key to call ``provider`` with for this caller: their own active key, else
    the nearest department's (their department, then its ancestors), else None.

    Raises a ``VaultError`` (``CredentialTampered``, ``UnknownMasterKey``,
    ``VaultUnavailable``) when the applicable key exists but cannot be opened: the
    call must then fail, not fall back to the company's key."""
    if provider not in BYOK_PROVIDERS or (user_id is None and department_id is None):
        return None
    index = get_credential_index()
    snapshot = await index.current()
    candidates = snapshot.candidates(
        user_id=user_id, department_id=department_id, provider=provider
    )
    if not candidates:
        return None
    return await sync_to_async(_open_first)(candidates, provider)


def byok_credentials(
    *, user_id: int | None, department_id: int | None, provider: str
) -> OpenedCredential | None:
    """``abyok_credentials`` for synchronous callers."""
    if provider not in BYOK_PROVIDERS or (user_id is None and department_id is None):
        return None
    snapshot = get_credential_index().current_sync()
    candidates = snapshot.candidates(
        user_id=user_id, department_id=department_id, provider=provider
    )
    return _open_first(candidates, provider) if candidates else None


def _open_first(candidates: list[Candidate], provider: str) -> OpenedCredential | None:
    """One query for every candidate; the first still active one in precedence order
    is opened. A candidate deleted by another process since the index was loaded is
    passed over."""
    index = get_credential_index()
    rows = ProviderCredential.objects.filter(
        pk__in=[c.credential_id for c in candidates], provider=provider, revoked_at__isnull=True
    ).in_bulk()
    for candidate in candidates:
        row = rows.get(candidate.credential_id)
        if row is None:
            continue
        secrets = credential_open(row)
        if index.touch_due(row.pk):
            credential_touch(credential_id=row.pk)
        return OpenedCredential(
            credential_id=row.pk, owner_kind=row.owner_kind, secrets=secrets, last4=row.last4
        )
    index.invalidate()
    return None
