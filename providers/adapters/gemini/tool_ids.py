"""Tool-call ids that carry Gemini's thought signature through an OpenAI client.

Gemini 3 models attach an opaque ``thoughtSignature`` to each function call and
reject the next turn (400) unless it comes back on the same ``functionCall``
part. OpenAI tool calls only round-trip an ``id``, so the signature rides inside
it: ``call_<24 hex>`` alone, or ``call_<24 hex>_<base64url of the signature>``.
Ids minted elsewhere (another provider, a client) simply carry no signature.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets

_SIGNED_ID = re.compile(r"^call_[0-9a-f]{24}_([A-Za-z0-9_-]+)$")


def tool_call_id(signature: str | None = None) -> str:
    """A fresh id; with ``signature`` it can be read back by ``signature_from``."""
    ident = f"call_{secrets.token_hex(12)}"
    if not signature:
        return ident
    packed = base64.urlsafe_b64encode(signature.encode()).rstrip(b"=").decode()
    return f"{ident}_{packed}"


def signature_from(ident: str) -> str | None:
    """The thought signature packed into an id by ``tool_call_id``, if any."""
    match = _SIGNED_ID.match(ident)
    if match is None:
        return None
    packed = match.group(1)
    try:
        return base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
