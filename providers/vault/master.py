"""The master key that wraps every data key, kept outside the database.

``MasterKey`` is the whole contract a backend fulfils: the id of the key that wraps
new data keys, ``wrap`` and ``unwrap``. ``EnvironmentMasterKey`` holds the keys from
settings (``VAULT_MASTER_KEY`` and, for rotation, ``VAULT_PREVIOUS_MASTER_KEYS``);
a KMS backend implements the same three members and is named in
``VAULT_MASTER_KEY_BACKEND``. ``get_master_key`` builds the configured backend.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from providers.vault.errors import CredentialTampered, UnknownMasterKey, VaultUnavailable

KEY_BYTES = 32
NONCE_BYTES = 12
_KEY_ID_LABEL = b"sanae-vault master key id v1"
_SEPARATORS = re.compile(r"[\s,]+")


@runtime_checkable
class MasterKey(Protocol):
    """Wraps and unwraps data keys. ``aad`` binds a wrapped key to its credential row:
    ``unwrap`` with other associated data must fail.

    ``unwrap`` raises ``UnknownMasterKey`` when it does not hold ``key_id`` and
    ``CredentialTampered`` when the wrapped blob does not authenticate."""

    @property
    def key_id(self) -> str:
        """The id of the key that ``wrap`` uses now."""
        ...

    def wrap(self, data_key: bytes, *, aad: bytes) -> tuple[str, bytes]:
        """``(key id, wrapped blob)``."""
        ...

    def unwrap(self, wrapped: bytes, *, key_id: str, aad: bytes) -> bytes: ...


def master_key_id(key: bytes) -> str:
    """A short public fingerprint of a master key. Derived with HMAC rather than a
    plain hash of the key, so the id says nothing a hash of the key would."""
    return hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def _decode_key(raw: str, *, setting: str) -> bytes:
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise VaultUnavailable(
            _("%(setting)s is not valid base64.") % {"setting": setting}
        ) from None
    if len(key) != KEY_BYTES:
        raise VaultUnavailable(
            _("%(setting)s must decode to 32 bytes (it decodes to %(count)d).")
            % {"setting": setting, "count": len(key)}
        )
    return key


class EnvironmentMasterKey:
    """Master keys from the environment (or ``*_FILE``): AES-256-GCM key wrapping
    with a random 96-bit nonce, the nonce stored in front of the wrapped key."""

    def __init__(self, *, current: str | None = None, previous: str | None = None) -> None:
        current = settings.VAULT_MASTER_KEY if current is None else current
        previous = settings.VAULT_PREVIOUS_MASTER_KEYS if previous is None else previous
        if not current.strip():
            raise VaultUnavailable(
                _(
                    "The key vault has no master key: set VAULT_MASTER_KEY "
                    "(or VAULT_MASTER_KEY_FILE) to the base64 of 32 random bytes."
                )
            )
        key = _decode_key(current.strip(), setting="VAULT_MASTER_KEY")
        self._current_id = master_key_id(key)
        self._keys: dict[str, bytes] = {self._current_id: key}
        for raw in _SEPARATORS.split(previous.strip()):
            if raw:
                old = _decode_key(raw, setting="VAULT_PREVIOUS_MASTER_KEYS")
                self._keys.setdefault(master_key_id(old), old)

    def __repr__(self) -> str:
        return f"EnvironmentMasterKey(key_id={self._current_id!r}, keys={len(self._keys)})"

    @property
    def key_id(self) -> str:
        return self._current_id

    def wrap(self, data_key: bytes, *, aad: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self._keys[self._current_id]).encrypt(nonce, data_key, aad)
        return self._current_id, nonce + sealed

    def unwrap(self, wrapped: bytes, *, key_id: str, aad: bytes) -> bytes:
        key = self._keys.get(key_id)
        if key is None:
            raise UnknownMasterKey(
                _(
                    "This key was sealed under master key %(key_id)s, which is not "
                    "configured: restore it in VAULT_MASTER_KEY or VAULT_PREVIOUS_MASTER_KEYS."
                )
                % {"key_id": key_id or "?"},
                key_id=key_id,
            )
        nonce, sealed = wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:]
        try:
            return AESGCM(key).decrypt(nonce, sealed, aad)
        except (InvalidTag, ValueError):
            raise CredentialTampered(
                _(
                    "A stored key failed its integrity check (its data key does not "
                    "unwrap): the row was changed or moved."
                )
            ) from None


def get_master_key() -> MasterKey:
    """The backend named by ``VAULT_MASTER_KEY_BACKEND``, built from current settings.
    Raises ``VaultUnavailable`` when it is missing or misconfigured."""
    path = settings.VAULT_MASTER_KEY_BACKEND
    try:
        backend = import_string(path)
    except ImportError:
        raise VaultUnavailable(
            _("VAULT_MASTER_KEY_BACKEND names %(path)s, which cannot be imported.") % {"path": path}
        ) from None
    instance = backend()
    if not isinstance(instance, MasterKey):
        raise VaultUnavailable(
            _("VAULT_MASTER_KEY_BACKEND %(path)s is not a master key backend.") % {"path": path}
        )
    return instance
