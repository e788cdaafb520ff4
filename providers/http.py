"""The one outbound HTTP seam (R7): httpx clients with explicit timeouts and limits."""

from __future__ import annotations

import httpx
from django.conf import settings


def build_client() -> httpx.Client:
    """A new client; callers keep it for the life of their process or request."""
    return httpx.Client(
        timeout=httpx.Timeout(
            connect=float(settings.PROVIDER_CONNECT_TIMEOUT),
            read=float(settings.PROVIDER_REQUEST_TIMEOUT),
            write=30.0,
            pool=10.0,
        ),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        follow_redirects=False,
        trust_env=False,
    )
