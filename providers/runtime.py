"""Per-process gateway state: HTTP clients per event loop and cached configuration.

Created once by ``ProvidersConfig.ready()`` (no import-time state, R8) and
reached through ``get_runtime()``.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import TYPE_CHECKING

from django.apps import apps

from providers.http import build_async_client

if TYPE_CHECKING:
    import httpx


class GatewayRuntime:
    def __init__(self) -> None:
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def client(self) -> httpx.AsyncClient:
        """The pooled client of the running event loop (httpx pools are loop-bound)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = build_async_client()
            self._clients[loop] = client
        return client


def get_runtime() -> GatewayRuntime:
    config = apps.get_app_config("providers")
    runtime: GatewayRuntime = config.runtime  # type: ignore[attr-defined]
    return runtime
