"""Typed errors of the vault (R11). All are gateway errors, so every interface that
already translates ``GatewayError`` shows them; ``message`` never holds a secret."""

from __future__ import annotations

from providers.errors import GatewayError


class VaultError(GatewayError):
    status = 500
    code = "vault_error"


class VaultUnavailable(VaultError):
    """No usable master key: none configured, malformed, or the KMS does not answer."""

    status = 503
    code = "vault_unavailable"


class UnknownMasterKey(VaultError):
    """A data key was wrapped by a master key this process does not hold."""

    status = 503
    code = "vault_unknown_master_key"

    def __init__(self, message: str, *, key_id: str) -> None:
        super().__init__(message)
        self.key_id = key_id


class CredentialTampered(VaultError):
    """A sealed credential failed authentication: a byte was changed, or its sealed
    fields were moved to another row, owner or provider."""

    code = "credential_tampered"


class CredentialInvalid(VaultError):
    """The secrets given for a provider are incomplete or malformed; ``field`` names
    the offending one (empty for the whole payload)."""

    status = 400
    code = "invalid_credential"

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field
