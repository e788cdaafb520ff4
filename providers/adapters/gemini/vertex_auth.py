"""Vertex AI credentials: a service account exchanged for an OAuth access token.

The flow is Google's "OAuth 2.0 for server to server applications": sign a JWT
(RS256, the account's ``private_key``) claiming the cloud-platform scope, POST it
to the account's ``token_uri`` as a ``jwt-bearer`` grant, and send the returned
access token as ``Authorization: Bearer``. Tokens live about an hour; the cache
hands out a cached one until it has less than five minutes left.

Neither the private key nor a token ever appears in a message or a repr.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import jwt

from providers.errors import ConfigError, ProviderError

if TYPE_CHECKING:
    from collections.abc import Mapping

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GOOGLE_OAUTH_ENDPOINT = "https://oauth2.googleapis.com/token"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_SECONDS = 3600
REFRESH_MARGIN_SECONDS = 300.0
TOKEN_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

AccountKey = tuple[str, str, str]


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    private_key: str = field(repr=False)
    private_key_id: str = ""
    token_uri: str = GOOGLE_OAUTH_ENDPOINT
    project_id: str = ""

    @property
    def cache_key(self) -> AccountKey:
        return (self.client_email, self.private_key_id, self.token_uri)


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: float  # seconds since the epoch


def service_account(raw: str) -> ServiceAccount:
    """``vertex_credentials`` as the service-account JSON itself, or a path to it."""
    text = raw.strip()
    if not text.startswith("{"):
        try:
            text = Path(text).expanduser().read_text(encoding="utf-8")
        except (OSError, ValueError):
            raise ConfigError(
                "vertex_credentials is neither service-account JSON nor a readable file"
            ) from None
    try:
        info: Any = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigError("vertex_credentials is not valid JSON") from None
    if not isinstance(info, dict) or info.get("type", "service_account") != "service_account":
        raise ConfigError("vertex_credentials must be a service-account key (type service_account)")
    email, key = info.get("client_email"), info.get("private_key")
    if not (isinstance(email, str) and email and isinstance(key, str) and key):
        raise ConfigError("vertex_credentials needs client_email and private_key")
    return ServiceAccount(
        client_email=email,
        private_key=key,
        private_key_id=str(info.get("private_key_id") or ""),
        token_uri=str(info.get("token_uri") or GOOGLE_OAUTH_ENDPOINT),
        project_id=str(info.get("project_id") or ""),
    )


def signed_assertion(account: ServiceAccount, *, now: float) -> str:
    issued = int(now)
    claims = {
        "iss": account.client_email,
        "scope": CLOUD_PLATFORM_SCOPE,
        "aud": account.token_uri,
        "iat": issued,
        "exp": issued + ASSERTION_LIFETIME_SECONDS,
    }
    headers = {"kid": account.private_key_id} if account.private_key_id else None
    try:
        return jwt.encode(claims, account.private_key, algorithm="RS256", headers=headers)
    except (ValueError, TypeError, jwt.PyJWTError):
        raise ConfigError(
            f"The private_key of service account {account.client_email} is not a usable RSA key"
        ) from None


def token_error(status: int, body: bytes) -> ProviderError:
    """The token endpoint answers ``{"error": "invalid_grant", "error_description": ...}``."""
    reason = ""
    try:
        payload = json.loads(body)
        if isinstance(payload, dict):
            reason = ": ".join(
                str(payload[k])[:200] for k in ("error", "error_description") if payload.get(k)
            )
    except (json.JSONDecodeError, UnicodeDecodeError):
        pass
    return ProviderError(
        f"Google refused the Vertex service-account token request ({status})"
        + (f": {reason}" if reason else ""),
        status=status,
        retryable=status == 429 or status >= 500,
        provider_code="token_request_failed",
    )


def parse_token(payload: Mapping[str, Any], *, now: float) -> AccessToken:
    value = payload.get("access_token")
    expires_in = payload.get("expires_in", ASSERTION_LIFETIME_SECONDS)
    if not isinstance(value, str) or not value or not isinstance(expires_in, int | float):
        raise ProviderError("The Google token endpoint answered in an unexpected shape")
    return AccessToken(value=value, expires_at=now + float(expires_in))


async def fetch_access_token(
    account: ServiceAccount, client: httpx.AsyncClient, *, now: float
) -> AccessToken:
    form = {"grant_type": JWT_BEARER_GRANT, "assertion": signed_assertion(account, now=now)}
    try:
        response = await client.post(
            account.token_uri,
            data=form,
            headers={"Accept": "application/json"},
            timeout=TOKEN_TIMEOUT,
        )
    except httpx.TimeoutException:
        raise ProviderError(
            "The Google token endpoint did not answer in time", status=504, retryable=True
        ) from None
    except httpx.HTTPError:
        raise ProviderError(
            "The Google token endpoint could not be reached", status=502, retryable=True
        ) from None
    if response.status_code >= 400:
        raise token_error(response.status_code, response.content)
    try:
        payload = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        raise ProviderError("The Google token endpoint answered in an unexpected shape")
    return parse_token(payload, now=now)


class AccessTokenCache:
    """Access tokens per service account, for the life of the adapter (one per process).

    A lock per account and event loop makes concurrent requests wait for one token
    request instead of each sending their own. (asyncio locks belong to one loop, and
    the blocking gateway wrappers run each call on a loop of its own, hence per loop.)
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
    ) -> None:
        self.clock = clock
        self.refresh_margin = refresh_margin
        self._tokens: dict[AccountKey, AccessToken] = {}
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[AccountKey, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()
        self._locks_guard = threading.Lock()

    def _fresh(self, key: AccountKey) -> str | None:
        token = self._tokens.get(key)
        if token is not None and token.expires_at - self.clock() > self.refresh_margin:
            return token.value
        return None

    def _lock(self, key: AccountKey) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._locks_guard:
            return self._locks.setdefault(loop, {}).setdefault(key, asyncio.Lock())

    async def token(self, account: ServiceAccount, client: httpx.AsyncClient) -> str:
        """A token valid for at least ``refresh_margin`` more seconds, when Google
        grants that long; a token granted for less is used once and then refreshed."""
        key = account.cache_key
        cached = self._fresh(key)
        if cached is not None:
            return cached
        async with self._lock(key):
            cached = self._fresh(key)
            if cached is not None:
                return cached
            token = await fetch_access_token(account, client, now=self.clock())
            self._tokens[key] = token
            return token.value
