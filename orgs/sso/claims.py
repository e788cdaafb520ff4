"""Claims as the IdP sent them: merged from the ID token and userinfo, normalised."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from orgs.errors import OrgError

# Microsoft Entra ID replaces the groups claim by a link when a user is in more
# groups than fit in a token (200 for JWTs); these keys then name the source.
OVERAGE_KEYS = ("_claim_names", "_claim_sources")


@dataclass(frozen=True)
class Claims:
    raw: dict[str, Any]
    email: str
    name: str
    groups_overage: bool = False
    values: dict[str, list[str]] = field(default_factory=dict)

    def get(self, claim: str) -> list[str]:
        """A claim as a list of strings (scalars become one-element lists)."""
        return self.values.get(claim, [])


def _as_strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None and not isinstance(v, dict | list)]
    if isinstance(value, dict):
        return []
    return [str(value)]


def _first(value: Any) -> str:
    """SAML attributes arrive as lists; OIDC claims as scalars."""
    if isinstance(value, list | tuple):
        return str(value[0]) if value else ""
    return str(value) if value is not None else ""


def claims_from_mapping(data: dict[str, Any], *, fallback_email: str = "") -> Claims:
    email = _first(data.get("email") or data.get("preferred_username") or data.get("upn"))
    email = (email if "@" in email else fallback_email).strip().lower()
    values = {key: _as_strings(value) for key, value in data.items()}
    if "@" in email:
        values["email_domain"] = [email.rsplit("@", 1)[1]]
    claim_names = data.get("_claim_names")
    overage = isinstance(claim_names, dict) and "groups" in claim_names and "groups" not in data
    return Claims(
        raw=data,
        email=email,
        name=_first(data.get("name") or data.get("displayName")),
        groups_overage=overage,
        values=values,
    )


def claims_from_extra_data(extra_data: dict[str, Any], *, fallback_email: str = "") -> Claims:
    """allauth keeps OIDC ``id_token`` and ``userinfo`` apart (userinfo wins on
    conflicts); SAML attributes come as one flat mapping of lists."""
    merged: dict[str, Any] = {}
    for part in ("id_token", "userinfo"):
        section = extra_data.get(part)
        if isinstance(section, dict):
            merged.update(section)
    if not merged:
        merged = dict(extra_data)
    return claims_from_mapping(merged, fallback_email=fallback_email)


def claims_from_pasted_token(text: str) -> Claims:
    """For the admin's dry run: an ID token (JWT, signature not checked) or a JSON object."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OrgError(f"Not valid JSON: {exc.msg} (line {exc.lineno})") from None
    else:
        parts = text.split(".")
        if len(parts) < 2:
            raise OrgError("Paste an ID token (header.payload.signature) or a JSON object")
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        try:
            data = json.loads(base64.urlsafe_b64decode(payload))
        except (binascii.Error, ValueError):
            raise OrgError("The token's payload is not base64url-encoded JSON") from None
    if not isinstance(data, dict):
        raise OrgError("The claims must be a JSON object")
    return claims_from_mapping(data)
