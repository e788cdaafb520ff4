"""Writes on the vault (R2): register, delete, open and re-wrap provider keys.
Callers have checked permissions; secrets never reach a log or an audit event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orgs.audit import audit_record
from orgs.selectors import primary_membership
from providers.events import publish_on_commit
from providers.vault.errors import CredentialInvalid, VaultError
from providers.vault.index import get_credential_index
from providers.vault.master import get_master_key
from providers.vault.models import ProviderCredential
from providers.vault.schema import credential_secrets_validate, secrets_last4
from providers.vault.sealing import (
    FORMAT_VERSION,
    rewrap,
    row_aad,
    row_sealed,
    seal,
    unseal,
)

if TYPE_CHECKING:
    from orgs.audit import RequestContext
    from orgs.models import Department, User
    from providers.vault.master import MasterKey


def _invalidate_index_on_commit() -> None:
    transaction.on_commit(get_credential_index().invalidate)
    publish_on_commit({"type": "vault.changed"})  # the other processes


def _owner_details(credential: ProviderCredential) -> dict[str, Any]:
    return {"kind": credential.owner_kind, "id": credential.owner_id}


def _audit_department(credential: ProviderCredential) -> Department | None:
    if credential.owner_department is not None:
        return credential.owner_department
    assert credential.owner_user is not None  # noqa: S101 - one owner (check constraint)
    membership = primary_membership(credential.owner_user)
    return membership.department if membership else None


@transaction.atomic
def credential_create(
    *,
    owner_user: User | None = None,
    owner_department: Department | None = None,
    provider: str,
    secrets: dict[str, str],
    label: str = "",
    actor: User,
    context: RequestContext | None = None,
) -> ProviderCredential:
    """Validate, seal and store a key for one owner (a user or a department).
    Raises ``CredentialInvalid`` for bad input or when the owner already has an
    active key for ``provider``, ``VaultUnavailable`` without a master key."""
    if (owner_user is None) == (owner_department is None):
        raise CredentialInvalid(_("A key belongs to exactly one person or department."))
    cleaned = credential_secrets_validate(provider, secrets)
    label = label.strip()
    if len(label) > 100:
        raise CredentialInvalid(_("The label is too long (at most 100 characters)."), field="label")
    credential = ProviderCredential(
        id=uuid.uuid4(),
        owner_user=owner_user,
        owner_department=owner_department,
        provider=provider,
        label=label,
        format_version=FORMAT_VERSION,
        last4=secrets_last4(provider, cleaned),
        created_by=actor,
    )
    sealed = seal(cleaned, aad=row_aad(credential), master=get_master_key())
    credential.ciphertext = sealed.ciphertext
    credential.nonce = sealed.nonce
    credential.wrapped_key = sealed.wrapped_key
    credential.master_key_id = sealed.master_key_id
    try:
        with transaction.atomic():
            credential.save(force_insert=True)
    except IntegrityError:
        raise CredentialInvalid(
            _("There is already a key for %(provider)s here. Delete it first to register another.")
            % {"provider": credential.get_provider_display()},
            field="provider",
        ) from None
    audit_record(
        actor=actor,
        action="byok.create",
        target=credential,
        department=_audit_department(credential),
        details={
            "provider": provider,
            "label": label,
            "last4": credential.last4,
            "owner": _owner_details(credential),
            "master_key_id": credential.master_key_id,
        },
        context=context,
    )
    _invalidate_index_on_commit()
    return credential


@transaction.atomic
def credential_delete(
    *, credential: ProviderCredential, actor: User, context: RequestContext | None = None
) -> ProviderCredential:
    """Mark the key deleted and erase its sealed fields, so nothing can open it again.
    The row stays for the audit trail. Deleting twice is a no-op."""
    locked = ProviderCredential.objects.select_for_update().get(pk=credential.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.ciphertext = locked.nonce = locked.wrapped_key = b""
    locked.save(update_fields=["revoked_at", "ciphertext", "nonce", "wrapped_key"])
    audit_record(
        actor=actor,
        action="byok.delete",
        target=locked,
        department=_audit_department(locked),
        details={
            "provider": locked.provider,
            "label": locked.label,
            "last4": locked.last4,
            "owner": _owner_details(locked),
        },
        context=context,
    )
    _invalidate_index_on_commit()
    return locked


def credential_open(
    credential: ProviderCredential, *, master: MasterKey | None = None
) -> dict[str, str]:
    """The decrypted secrets, in memory for one call; never store, log or return them.
    Raises ``CredentialTampered`` when the row was edited or moved, ``UnknownMasterKey``
    or ``VaultUnavailable`` when the master key is missing."""
    if credential.revoked_at is not None:
        raise VaultError(_("This key was deleted."))
    return unseal(
        row_sealed(credential), aad=row_aad(credential), master=master or get_master_key()
    )


def credential_touch(*, credential_id: uuid.UUID) -> None:
    """Record a use. Writes ``last_used_at`` alone, never the sealed fields."""
    ProviderCredential.objects.filter(pk=credential_id).update(last_used_at=timezone.now())


@dataclass(frozen=True)
class RewrapOutcome:
    credential_id: uuid.UUID
    from_key_id: str
    rewrapped: bool  # False: it was already under the current key (changed meanwhile)


@transaction.atomic
def credential_rewrap(
    *, credential_id: uuid.UUID, master: MasterKey, dry_run: bool = False
) -> RewrapOutcome:
    """Wrap one row's data key under the current master key, under the row lock.
    ``ciphertext`` and ``nonce`` are not touched. With ``dry_run`` the data key is
    unwrapped (proving it can be) but nothing is written. Raises the vault errors of
    ``unwrap`` for a row it cannot read."""
    row = ProviderCredential.objects.select_for_update().get(pk=credential_id)
    from_key_id = row.master_key_id
    if row.revoked_at is not None or from_key_id == master.key_id:
        return RewrapOutcome(row.pk, from_key_id, rewrapped=False)
    key_id, wrapped = rewrap(row_sealed(row), aad=row_aad(row), master=master)
    if not dry_run:
        row.master_key_id, row.wrapped_key = key_id, wrapped
        row.save(update_fields=["master_key_id", "wrapped_key"])
    return RewrapOutcome(row.pk, from_key_id, rewrapped=True)
