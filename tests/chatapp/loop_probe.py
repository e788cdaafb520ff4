"""An ASGI app, tuned as the platform's is, that answers with the class of the event
loop serving it and the server address daphne put in the request's scope."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from chatapp import daphne_tuning

daphne_tuning.install()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    loop = type(asyncio.get_running_loop())
    body = json.dumps({"loop": f"{loop.__module__}.{loop.__qualname__}", "server": scope["server"]})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body.encode()})
