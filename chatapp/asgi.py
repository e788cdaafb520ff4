"""ASGI entry point: HTTP goes to Django, websockets through origin check and auth."""

from __future__ import annotations

import gc
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatapp.settings")
# The web server reuses database connections from a pool (settings.DATABASE_POOL):
# without it every websocket event's database call connects anew (password hashing
# included), which was the largest cost of a streamed answer.
os.environ.setdefault("DATABASE_POOL", "16")
# Usage rows of blocking gateway calls (a search's query embedding) are written by the
# ledger's thread, not on the request's path; the server flushes them when it stops.
os.environ.setdefault("LEDGER_SYNC_FLUSH", "0")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from chatapp import daphne_tuning  # noqa: E402
from chatapp.routing import websocket_urlpatterns  # noqa: E402
from chatapp.warmup import warm_up  # noqa: E402
from providers.api.app import OpenAIApi  # noqa: E402
from providers.runtime import get_runtime  # noqa: E402

openai_api = OpenAIApi()
daphne_tuning.install()
warm_up()
# Everything loaded so far lives as long as the process: out of the collector's sight,
# a full collection scans what requests create, not all of Django. Measured under
# bench.chat_ws: such a collection paused every stream for about 100 ms; now 10 to 30 ms.
gc.freeze()


async def http_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/v1/...`` goes to the lean OpenAI-compatible API; everything else to Django."""
    # This server's loop follows gateway changes made by other processes.
    get_runtime().listen_here()
    if scope["path"].startswith("/v1/"):
        await openai_api(scope, receive, send)
    else:
        await django_asgi_app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
