"""Which secret parameters each provider takes, and their validation. Names are the
gateway's (``litellm_params``), so an opened credential drops into a call as is."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from providers.models import PROVIDER_PREFIXES
from providers.vault.errors import CredentialInvalid

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

# Self-hosted engines take no customer key.
BYOK_PROVIDERS: tuple[str, ...] = tuple(p for p in PROVIDER_PREFIXES if p != "hosted_vllm")
PROVIDER_LABELS: dict[str, _StrPromise] = {
    "openai": gettext_lazy("OpenAI"),
    "azure": gettext_lazy("Azure OpenAI"),
    "anthropic": gettext_lazy("Anthropic"),
    "gemini": gettext_lazy("Google Gemini"),
    "vertex_ai": gettext_lazy("Google Vertex AI"),
    "bedrock": gettext_lazy("Amazon Bedrock"),
}

_TOKEN = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces
_AWS_ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")


@dataclass(frozen=True)
class SecretField:
    name: str
    label: _StrPromise
    required: bool = True
    max_length: int = 512
    multiline: bool = False


_API_KEY = SecretField("api_key", gettext_lazy("API key"))
PROVIDER_FIELDS: dict[str, tuple[SecretField, ...]] = {
    "openai": (_API_KEY,),
    "azure": (_API_KEY,),
    "anthropic": (_API_KEY,),
    "gemini": (_API_KEY,),
    "bedrock": (
        SecretField("aws_access_key_id", gettext_lazy("AWS access key ID"), max_length=128),
        SecretField("aws_secret_access_key", gettext_lazy("AWS secret access key")),
        SecretField(
            "aws_session_token",
            gettext_lazy("AWS session token (optional)"),
            required=False,
            max_length=4096,
        ),
    ),
    "vertex_ai": (
        SecretField(
            "vertex_credentials",
            gettext_lazy("Service account key (JSON)"),
            max_length=16384,
            multiline=True,
        ),
    ),
}
SECRET_FIELD_NAMES: frozenset[str] = frozenset(
    f.name for fields in PROVIDER_FIELDS.values() for f in fields
)


def credential_secrets_validate(provider: str, secrets: dict[str, str]) -> dict[str, str]:
    """The cleaned secrets for ``provider``: trimmed, empty optional ones dropped.
    Raises ``CredentialInvalid`` naming the first bad field; the message never
    repeats the value."""
    if provider not in PROVIDER_FIELDS:
        raise CredentialInvalid(
            _("Keys for %(provider)s cannot be registered.") % {"provider": provider},
            field="provider",
        )
    fields = PROVIDER_FIELDS[provider]
    unknown = sorted(set(secrets) - {f.name for f in fields})
    if unknown:
        raise CredentialInvalid(
            _("%(provider)s takes no parameter %(name)s.")
            % {"provider": provider, "name": unknown[0]},
            field=unknown[0],
        )
    cleaned: dict[str, str] = {}
    for spec in fields:
        value = secrets.get(spec.name, "")
        if not isinstance(value, str):
            raise CredentialInvalid(
                _("%(field)s must be text.") % {"field": spec.label}, field=spec.name
            )
        value = value.strip()
        if not value:
            if spec.required:
                raise CredentialInvalid(
                    _("%(field)s is required.") % {"field": spec.label}, field=spec.name
                )
            continue
        if len(value) > spec.max_length:
            raise CredentialInvalid(
                _("%(field)s is too long (at most %(max)d characters).")
                % {"field": spec.label, "max": spec.max_length},
                field=spec.name,
            )
        _check_format(spec, value)
        cleaned[spec.name] = value
    return cleaned


def _check_format(spec: SecretField, value: str) -> None:
    if spec.name == "vertex_credentials":
        _check_service_account(value)
    elif spec.name == "aws_access_key_id":
        if not _AWS_ACCESS_KEY_ID.fullmatch(value):
            raise CredentialInvalid(
                _("An AWS access key ID is 16 or more capital letters and digits."),
                field=spec.name,
            )
    elif len(value) < 8 or not _TOKEN.fullmatch(value):
        raise CredentialInvalid(
            _("%(field)s must be at least 8 characters with no spaces.") % {"field": spec.label},
            field=spec.name,
        )


def _check_service_account(value: str) -> None:
    """The JSON itself, never a path: a user must not make the server read its files."""
    try:
        info = json.loads(value)
    except json.JSONDecodeError:
        info = None
    if not isinstance(info, dict):
        raise CredentialInvalid(
            _("Paste the service account key file's JSON content."), field="vertex_credentials"
        )
    email, key = info.get("client_email"), info.get("private_key")
    if (
        info.get("type", "service_account") != "service_account"
        or not (isinstance(email, str) and email)
        or not (isinstance(key, str) and key)
    ):
        raise CredentialInvalid(
            _("This is not a service account key (it needs type, client_email and private_key)."),
            field="vertex_credentials",
        )


def secrets_last4(provider: str, secrets: dict[str, str]) -> str:
    """The four characters the UI may show to tell keys apart: of the API key, of the
    AWS access key ID, or of a service account's key id."""
    if provider == "bedrock":
        shown = secrets.get("aws_access_key_id", "")
    elif provider == "vertex_ai":
        info = json.loads(secrets.get("vertex_credentials", "{}"))
        shown = str(info.get("private_key_id") or info.get("client_email", "").split("@")[0])
    else:
        shown = secrets.get("api_key", "")
    return shown[-4:]
