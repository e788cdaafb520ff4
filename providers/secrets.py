"""Encryption at rest for provider API keys given literally in a models config.

AES-256-GCM with the key from ``PROVIDER_SECRETS_KEY`` (base64, 32 bytes), kept
outside the database. The associated data binds a ciphertext to its deployment
identity, so a ciphertext copied onto another row fails to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from providers.errors import SecretUnavailable

_NONCE_BYTES = 12
_ENV_PREFIX = "os.environ/"


def _master_key() -> bytes:
    raw = settings.PROVIDER_SECRETS_KEY
    if not raw:
        raise SecretUnavailable(
            "PROVIDER_SECRETS_KEY is not set: literal API keys cannot be stored. "
            "Set it, or reference the key as os.environ/VAR."
        )
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SecretUnavailable("PROVIDER_SECRETS_KEY is not valid base64") from None
    if len(key) != 32:
        raise SecretUnavailable("PROVIDER_SECRETS_KEY must decode to 32 bytes")
    return key


def secret_encrypt(plaintext: str, *, associated_data: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_master_key()).encrypt(nonce, plaintext.encode(), associated_data.encode())
    return nonce + sealed


def secret_decrypt(ciphertext: bytes, *, associated_data: str) -> str:
    nonce, sealed = ciphertext[:_NONCE_BYTES], ciphertext[_NONCE_BYTES:]
    try:
        plain = AESGCM(_master_key()).decrypt(nonce, sealed, associated_data.encode())
    except InvalidTag:
        raise SecretUnavailable("A stored API key could not be decrypted") from None
    return plain.decode()


def env_reference(value: str) -> str | None:
    """``os.environ/NAME`` → ``NAME``; anything else → None."""
    if value.startswith(_ENV_PREFIX):
        return value[len(_ENV_PREFIX) :].strip()
    return None


def resolve_env_reference(value: str, *, what: str) -> str:
    """Resolve ``os.environ/NAME`` at call time; literals are returned unchanged."""
    name = env_reference(value)
    if name is None:
        return value
    resolved = os.environ.get(name, "")
    if not resolved:
        raise SecretUnavailable(f"{what}: environment variable {name} is not set")
    return resolved
