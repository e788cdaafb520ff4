"""Envelope encryption of one credential: a fresh AES-256-GCM data key per secret,
wrapped by the master key. The same associated data (format version, row id, owner,
provider) authenticates both layers, so a sealed field moved to another row, or a row
whose owner or provider was edited, fails to open instead of yielding garbage."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.utils.translation import gettext as _

from providers.vault.errors import CredentialTampered, VaultError

if TYPE_CHECKING:
    from uuid import UUID

    from providers.vault.master import MasterKey
    from providers.vault.models import ProviderCredential

FORMAT_VERSION = 1
NONCE_BYTES = 12


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes
    nonce: bytes
    wrapped_key: bytes
    master_key_id: str


def credential_aad(
    *, version: int, credential_id: UUID, owner_kind: str, owner_id: int, provider: str
) -> bytes:
    """The canonical associated data. Every part is an id or a fixed choice, none
    holds the separator, so distinct rows never share it."""
    parts = ("sanae-vault", f"v{version}", str(credential_id), f"{owner_kind}:{owner_id}", provider)
    return "|".join(parts).encode()


def row_aad(credential: ProviderCredential) -> bytes:
    """The associated data a stored row claims (read from its columns as they are now)."""
    if credential.format_version != FORMAT_VERSION:
        raise VaultError(
            _("Stored key %(id)s has an unknown format (version %(version)s).")
            % {"id": credential.pk, "version": credential.format_version}
        )
    return credential_aad(
        version=credential.format_version,
        credential_id=credential.pk,
        owner_kind=credential.owner_kind,
        owner_id=credential.owner_id,
        provider=credential.provider,
    )


def seal(secrets: dict[str, str], *, aad: bytes, master: MasterKey) -> Sealed:
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    plaintext = json.dumps(secrets, separators=(",", ":"), sort_keys=True).encode()
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, aad)
    key_id, wrapped = master.wrap(data_key, aad=aad)
    return Sealed(ciphertext=ciphertext, nonce=nonce, wrapped_key=wrapped, master_key_id=key_id)


def unseal(sealed: Sealed, *, aad: bytes, master: MasterKey) -> dict[str, str]:
    """The secrets, in memory only. Raises ``CredentialTampered`` when either layer
    fails to authenticate, ``UnknownMasterKey`` when the wrapping key is not held."""
    data_key = master.unwrap(sealed.wrapped_key, key_id=sealed.master_key_id, aad=aad)
    try:
        plaintext = AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, aad)
    except (InvalidTag, ValueError):
        raise CredentialTampered(
            _(
                "A stored key failed its integrity check (its secret does not decrypt): "
                "the row was changed or moved."
            )
        ) from None
    secrets = json.loads(plaintext)
    if not isinstance(secrets, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in secrets.items()
    ):
        raise CredentialTampered(_("A stored key does not hold secret parameters."))
    return secrets


def rewrap(sealed: Sealed, *, aad: bytes, master: MasterKey) -> tuple[str, bytes]:
    """The data key wrapped under the current master key; the secret is untouched."""
    data_key = master.unwrap(sealed.wrapped_key, key_id=sealed.master_key_id, aad=aad)
    return master.wrap(data_key, aad=aad)


def row_sealed(credential: ProviderCredential) -> Sealed:
    return Sealed(
        ciphertext=bytes(credential.ciphertext),
        nonce=bytes(credential.nonce),
        wrapped_key=bytes(credential.wrapped_key),
        master_key_id=credential.master_key_id,
    )
