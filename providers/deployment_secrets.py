"""A deployment's literal secrets (API key, AWS keys, a service account) sealed as one
AES-GCM blob, bound to the deployment's model name and provider: a blob copied
onto another deployment fails to open. The one place that seals and opens them."""

from __future__ import annotations

import json

from providers.secrets import secret_decrypt, secret_encrypt


def deployment_key_aad(model_name: str, provider: str) -> str:
    return f"deployment-api-key|{model_name}|{provider}"


def secrets_seal(literal: dict[str, str], *, model_name: str, provider: str) -> bytes:
    """The sealed blob, or empty bytes when there is nothing to keep."""
    if not literal:
        return b""
    return secret_encrypt(
        json.dumps(literal), associated_data=deployment_key_aad(model_name, provider)
    )


def secrets_open(ciphertext: bytes, *, model_name: str, provider: str) -> dict[str, str]:
    if not ciphertext:
        return {}
    opened: dict[str, str] = json.loads(
        secret_decrypt(bytes(ciphertext), associated_data=deployment_key_aad(model_name, provider))
    )
    return opened
