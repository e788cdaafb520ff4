"""AWS Signature Version 4 for request headers, as a pure function of its inputs.

Follows "Create a signed AWS API request" in the AWS IAM User Guide: a canonical
request, a string to sign, a signing key derived by an HMAC-SHA256 chain over
date / region / service / ``aws4_request``, and the ``Authorization`` header.
The clock is an argument (``now``), so the same inputs always give the same
signature; the caller reads the clock.

Path canonicalisation is the one for every service except S3: each segment of
the path *as sent* (already percent-encoded once) is URI-encoded again. A
Bedrock model id ``anthropic.claude-3-5-sonnet-20240620-v1:0`` travels as
``...v1%3A0`` and is signed as ``...v1%253A0``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_HEADERS = frozenset({"authorization", "content-length", "user-agent", "expect"})


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False, default="")


def uri_encode(value: str) -> str:
    """RFC 3986 encoding as SigV4 wants it: only ``A-Za-z0-9-_.~`` stay as they are."""
    return quote(value, safe="-_.~")


def canonical_uri(path: str) -> str:
    """Encode each segment of the (already encoded) path once more; ``/`` when empty."""
    if not path:
        return "/"
    return "/".join(uri_encode(segment) for segment in path.split("/"))


def canonical_query(query: str) -> str:
    """Parameters sorted by encoded name, then value; names and values encoded once."""
    if not query:
        return ""
    pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        # The query arrives encoded; decode first so nothing is encoded twice.
        pairs.append((uri_encode(unquote(name)), uri_encode(unquote(value))))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def host_header(url: str) -> str:
    """The ``Host`` an HTTP client sends for ``url``: no userinfo, no default port."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is not None and parts.port != default_port:
        host = f"{host}:{parts.port}"
    return host


def _collapse(value: str) -> str:
    return " ".join(value.strip().split())


def canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """``(canonical header block, signed header list)`` from the headers to sign."""
    merged: dict[str, list[str]] = {}
    for name, value in headers.items():
        merged.setdefault(name.strip().lower(), []).append(_collapse(value))
    names = sorted(merged)
    block = "".join(f"{name}:{','.join(merged[name])}\n" for name in names)
    return block, ";".join(names)


def canonical_request(
    *, method: str, url: str, headers: Mapping[str, str], payload_hash: str
) -> tuple[str, str]:
    """``(canonical request, signed headers)``; ``headers`` must include ``host``."""
    parts = urlsplit(url)
    block, signed = canonical_headers(headers)
    text = "\n".join(
        [
            method.upper(),
            canonical_uri(parts.path),
            canonical_query(parts.query),
            block,
            signed,
            payload_hash,
        ]
    )
    return text, signed


def credential_scope(date: str, region: str, service: str) -> str:
    return f"{date}/{region}/{service}/aws4_request"


def string_to_sign(*, amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def amz_timestamp(now: datetime) -> str:
    """``YYYYMMDD'T'HHMMSS'Z'`` in UTC; ``now`` must be timezone-aware."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def sign_headers(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: AwsCredentials,
    region: str,
    service: str,
    now: datetime,
    include_content_sha256: bool = True,
) -> dict[str, str]:
    """The headers to add to a request so AWS accepts it: ``X-Amz-Date``,
    ``X-Amz-Content-Sha256`` (unless told not to), ``X-Amz-Security-Token`` when the
    credentials are temporary, and ``Authorization``.

    Every header in ``headers`` is signed, except hop-by-hop ones a client may
    rewrite (``UNSIGNED_HEADERS``); ``Host`` is taken from ``url`` unless given.
    """
    amz_date = amz_timestamp(now)
    payload_hash = hashlib.sha256(body).hexdigest()
    added: dict[str, str] = {"X-Amz-Date": amz_date}
    if include_content_sha256:
        added["X-Amz-Content-Sha256"] = payload_hash
    if credentials.session_token:
        added["X-Amz-Security-Token"] = credentials.session_token
    to_sign = {k: v for k, v in headers.items() if k.lower() not in UNSIGNED_HEADERS}
    if not any(name.lower() == "host" for name in to_sign):
        to_sign["host"] = host_header(url)
    to_sign.update(added)
    canonical, signed = canonical_request(
        method=method, url=url, headers=to_sign, payload_hash=payload_hash
    )
    scope = credential_scope(amz_date[:8], region, service)
    key = signing_key(credentials.secret_access_key, amz_date[:8], region, service)
    signature = hmac.new(
        key,
        string_to_sign(amz_date=amz_date, scope=scope, canonical=canonical).encode(),
        hashlib.sha256,
    ).hexdigest()
    added["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return added
