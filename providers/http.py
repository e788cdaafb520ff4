"""The one outbound HTTP seam (R7): provider clients with explicit timeouts and limits.

Callers create a client per process (or per task) and pass it in; nothing here
holds a client at import time.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import httpx
from django.conf import settings

from providers.wire import WireClient


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
    """Model calls go over ``wire`` (providers.wire); httpx's client serves the rest
    (credential exchanges such as Vertex's access token).

    Keeps no cookies: an upstream's cookie from one caller's request must never ride
    along with another's (and reading every response for them cost 5 % of the
    gateway's CPU per request). ``wire`` has no cookie jar at all."""

    def __init__(self, *, wire: WireClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
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

    async def aclose(self) -> None:
        await self.wire.aclose()
        await super().aclose()

    async def __aexit__(self, *exc_info: Any) -> None:
        # httpx's own exit closes its transport, not this client: the wire too.
        await self.wire.aclose()
        await super().__aexit__(*exc_info)


def build_async_client() -> ProviderClient:
    """The client of provider calls, with pools of its own."""
    return ProviderClient(
        wire=WireClient(tls=tls_context(), max_connections=1024, keepalive_seconds=60.0),
        verify=tls_context(),
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        timeout=httpx.Timeout(
            connect=float(settings.PROVIDER_CONNECT_TIMEOUT),
            read=float(settings.PROVIDER_REQUEST_TIMEOUT),
            write=30.0,
            pool=10.0,
        ),
        follow_redirects=False,  # a base URL is set by platform admins; never follow elsewhere
        trust_env=False,
    )
