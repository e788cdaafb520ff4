"""Work daphne's libraries do per request and per websocket frame that nobody uses.

- Twisted parses the body of every form POST for ``request.args`` (and reads each
  POST's Content-Type with the e-mail package to decide): daphne never reads those
  args, it hands the raw body to the ASGI application, where Django parses it. For
  a multipart upload that is a second parse of the whole file; for every API POST
  it was 7 % of the gateway's CPU per request (bench.gateway profile).
- autobahn colours the arguments of a debug message for every frame it sends,
  whether debug logging is on or not: 2 to 3 % of a streaming server's CPU
  (bench.chat_ws profile). The message keeps its values, uncoloured.
- Twisted formats an access log line for every request and hands it to its legacy
  log, where nothing reads it: daphne writes its own access log (``--access-log``).
  That line cost 2 % of the gateway's CPU per request.
- daphne reaches Twisted's HTTP classes through the module's deprecation proxy,
  several lookups per request at 2 % of the gateway's CPU; it gets the module itself.
- Twisted asks the socket for its own address (a system call and an address
  object) with every request; a connection's address does not change, so it is
  asked once per connection.
- Twisted's asyncio reactor wraps every socket event in a legacy log context
  (``callWithLogger``), 4 % of the gateway's CPU per request. The reactor's handler
  already logs what a read or write raises; it is called directly.
- Twisted sends a connection's bytes a loop turn after they are written, with two
  epoll changes; ``prompt_writes`` sends them at once.
- daphne keeps every request (its application task, coroutine, queue, headers and
  Twisted request) in its connection table until a sweep once a second, so at a few
  thousand requests a second that many finished requests stay alive. The garbage
  collector saw them survive its young generations and ran a full collection about
  once a second, 2 to 25 ms each with nothing to collect, a pause of every stream in
  flight. A request whose response is done and whose application has returned now
  leaves the table at once; the sweep still handles the rest (timeouts, websockets
  whose application ended before their connection).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from types import ModuleType
from typing import Any

from autobahn.websocket import protocol as websocket_protocol
from daphne import http_protocol, server
from twisted.internet import asyncioreactor, tcp

from chatapp import prompt_writes


class AsgiWebRequest(http_protocol.WebRequest):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parsePOSTFormSubmission", False)
        super().__init__(*args, **kwargs)


def _as_is(value: object) -> object:
    return value


def _no_twisted_access_log(factory: object, request: object) -> None:
    return None


def _call_plainly(logger: object, func: Callable[..., Any], *args: Any) -> Any:
    return func(*args)


def _unproxied(module: ModuleType) -> ModuleType:
    """The module behind Twisted's deprecation proxy (the module itself if none)."""
    try:
        real: ModuleType = object.__getattribute__(module, "_module")
    except AttributeError:
        return module
    return real


_socket_host: Callable[[tcp.Server], Any] = tcp.Server.getHost


def _host_once(connection: tcp.Server) -> Any:
    host = connection.__dict__.get("_platform_host")
    if host is None:
        host = connection.__dict__["_platform_host"] = _socket_host(connection)
    return host


# daphne's own logger, so its configuration applies to what it would have logged
server_logger = logging.getLogger(server.__name__)
_create_application: Callable[..., Any] = server.Server.create_application


def _create_and_reap(daphne: server.Server, protocol: object, scope: dict[str, Any]) -> Any:
    queue = _create_application(daphne, protocol, scope)
    instance = daphne.connections.get(protocol, {}).get("application_instance")
    if instance is not None:
        instance.add_done_callback(partial(_reap, daphne, protocol))
    return queue


def _reap(daphne: server.Server, protocol: object, instance: asyncio.Future[Any]) -> None:
    """Drop a finished request from daphne's table once both sides are done, reporting
    what its application raised as daphne's sweep would."""
    details = daphne.connections.get(protocol)
    if (
        details is None
        or details.get("application_instance") is not instance
        or not details.get("disconnected")
    ):
        return  # still connected (a websocket whose application ended): the sweep's case
    del daphne.connections[protocol]
    error = None if instance.cancelled() else instance.exception()
    if error is None:
        return
    if isinstance(error, KeyboardInterrupt):
        daphne.stop()  # how an application asks the server to exit
    else:
        server_logger.error("Exception inside application: %s", error, exc_info=error)


def install() -> None:
    # daphne builds each connection's requests from this module attribute.
    http_protocol.WebRequest = AsgiWebRequest
    http_protocol.HTTPFactory.log = _no_twisted_access_log
    http_protocol.http = _unproxied(http_protocol.http)
    tcp.Server.getHost = _host_once  # type: ignore[method-assign]
    server.Server.create_application = _create_and_reap
    asyncioreactor.callWithLogger = _call_plainly  # type: ignore[attr-defined]
    # autobahn's frames call these two names of its protocol module for their logs.
    websocket_protocol.hltype = _as_is  # type: ignore[attr-defined]
    websocket_protocol.hlval = _as_is  # type: ignore[attr-defined,assignment]
    prompt_writes.install()
