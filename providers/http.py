"""The one outbound HTTP seam (R7): httpx clients with explicit timeouts and limits.

Callers create a client per process (or per task) and pass it in; nothing here
holds a client at import time.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import httpx
from django.conf import settings

from providers.aiohttp_transport import AiohttpTransport


@cache
def tls_context() -> ssl.SSLContext:
    """The certificate store for provider connections, read once per process: loading
    it costs about 40 ms, which a client per blocking call (``gateway.embed`` from
    sync code) paid every time."""
    return httpx.create_ssl_context(trust_env=False)


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class ProviderClient(httpx.AsyncClient):
    """httpx's client on aiohttp's connections; ``wire`` sends model calls on the same
    pool without httpx's objects (see providers.aiohttp_transport).

    Keeps no cookies: an upstream's cookie from one caller's request must never ride
    along with another's (and reading every response for them cost 5 % of the
    gateway's CPU per request)."""

    def __init__(self, *, wire: AiohttpTransport, **kwargs: Any) -> None:
        super().__init__(transport=wire, **kwargs)
        self.wire = wire

    @property
    def cookies(self) -> httpx.Cookies:
        jar = self.__dict__.get("_no_cookies")
        if jar is None:
            jar = self.__dict__["_no_cookies"] = _NoCookies()
        return jar

    @cookies.setter
    def cookies(self, value: object) -> None:
        return None


def build_async_client() -> ProviderClient:
    """The client of provider calls, with a pool of its own."""
    return ProviderClient(
        wire=AiohttpTransport(tls=tls_context(), max_connections=1024, keepalive_seconds=60.0),
        timeout=httpx.Timeout(
            connect=float(settings.PROVIDER_CONNECT_TIMEOUT),
            read=float(settings.PROVIDER_REQUEST_TIMEOUT),
            write=30.0,
            pool=10.0,
        ),
        follow_redirects=False,  # a base URL is set by platform admins; never follow elsewhere
        trust_env=False,
    )
