"""An ASGI app, tuned as the platform's is, that reports daphne's connection table.

``/table``: how many requests daphne holds and how many of those are finished (their
application returned). ``/fail``: answers, then raises. Anything else: a short answer.
daphne passes ``send`` as its reply method bound to the request, so the server object
is reached from it.
"""

from __future__ import annotations

import json
from typing import Any

from chatapp import daphne_tuning

daphne_tuning.install()


class ProbeFailure(RuntimeError):
    pass


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b"ok"
    if scope["path"] == "/table":
        connections = send.func.__self__.connections
        finished = [
            details
            for details in connections.values()
            if details.get("application_instance") is not None
            and details["application_instance"].done()
        ]
        body = json.dumps({"held": len(connections), "finished": len(finished)}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})
    if scope["path"] == "/fail":
        raise ProbeFailure("probe failure after the response")
