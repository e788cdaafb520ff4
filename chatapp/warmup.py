"""What the web server's first requests would otherwise import on its event loop.

In a fresh process the first chat turns imported the provider connection layer,
the database connection pool and the provider adapters while
every other stream waited: stalls of 0.2 to 0.3 s each, measured under
``bench.chat_ws``. ``chatapp.asgi`` does it at start, before freezing the collector.
"""

from __future__ import annotations

from importlib import import_module
from typing import Final

from providers.adapters import ADAPTER_PATHS, get_adapter
from providers.http import tls_context

MODULES: Final = (
    "psycopg_pool",
    "chatapp.textwriter",
    "django.contrib.sessions.serializers",
)


def warm_up() -> None:
    for name in MODULES:
        import_module(name)
    for provider in ADAPTER_PATHS:
        get_adapter(provider)
    tls_context()  # the certificate store, about 40 ms to read
