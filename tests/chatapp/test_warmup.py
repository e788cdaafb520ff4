"""The web server imports at start what its first requests would import on the event
loop, and freezes it out of the collector's sight (chatapp.warmup, chatapp.asgi);
daphne's requests leave body parsing to Django (chatapp.daphne_tuning)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from providers.adapters import ADAPTER_PATHS

CENSUS = """
import gc, json, sys
import daphne.server  # as daphne does, before the application
import chatapp.asgi
from types import SimpleNamespace
from daphne.http_protocol import HTTPFactory
from twisted.internet.address import IPv4Address
# a request as daphne's connections build them, on a stand-in for the connection
address = IPv4Address("TCP", "127.0.0.1", 1)
server = SimpleNamespace(protocol_connected=lambda request: None)
connection = SimpleNamespace(
    transport=None, getPeer=lambda: address, getHost=lambda: address,
    factory=SimpleNamespace(server=server),
)
request = HTTPFactory(server=None).buildProtocol(None).requestFactory(connection, False)
from autobahn.websocket import protocol as websocket_protocol
from daphne import http_protocol
from twisted.internet import asyncioreactor
from twisted.python.deprecate import _ModuleProxy
print(json.dumps({
    "http_module_proxied": isinstance(http_protocol.http, _ModuleProxy),
    "http_module_has_request": http_protocol.http.Request.__name__ == "Request",
    "reactor_log_context": asyncioreactor.callWithLogger(None, lambda x: x * 2, 21) != 42
    or asyncioreactor.callWithLogger.__module__ != "chatapp.daphne_tuning",
    "plain_frame_logs": websocket_protocol.hlval(7) == 7,
    "modules": sorted(sys.modules),
    "frozen": gc.get_freeze_count(),
    "form_parsing": request._parsePOSTFormSubmission,
    # Twisted's own access line would format the request; None has nothing to format
    "twisted_access_log": HTTPFactory(server=None).log(None) is not None,
}))
"""


def test_the_server_process_starts_with_the_lazy_imports_done_and_frozen() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CENSUS],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "chatapp.settings"},
        check=True,
    )
    census = json.loads(done.stdout.strip().splitlines()[-1])
    modules = set(census["modules"])
    for name in ("httptools", "providers.wire", "psycopg_pool"):
        assert name in modules
    for path in ADAPTER_PATHS.values():
        assert path.rpartition(".")[0] in modules
    assert census["frozen"] > 10_000
    assert census["form_parsing"] is False
    assert census["twisted_access_log"] is False
    assert census["http_module_proxied"] is False
    assert census["http_module_has_request"] is True
    assert census["reactor_log_context"] is False
    assert census["plain_frame_logs"] is True
