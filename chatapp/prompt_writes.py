"""daphne's HTTP connections send what they are given at once, as asyncio's transports do.

Twisted's TCP transport never sends in ``write``: it buffers the bytes, asks the
loop to watch the socket for writability (an epoll registration), sends on the
next loop turn and unregisters. Every response and every streamed chunk paid
that turn and two epoll changes, and a new stream's first chunk waited behind
every other callback ready in that turn.

``PromptWriteServer`` sends an HTTP response's bytes at once when nothing is waiting, and
leaves anything the socket does not take to Twisted's buffer and its usual
writability wake-up (so back-pressure on producers is unchanged). Response
headers are the one exception: Twisted writes them just before the body, so they
are held to go out with it in one packet; if no body follows in the same turn
(a HEAD or 204 answer, or a stream still waiting for its first chunk) they are
sent on the next turn. The connection also turns Nagle's algorithm off, as
asyncio's transports do: chunks of a stream are small writes that must not wait
for the previous one's acknowledgement.

Websocket connections keep Twisted's buffered writes: sent at once, the chat's frames
arrived later, not sooner (``bench.chat_ws`` at 200 and 300 conversations: added gap
p50 2-5 ms against 0.5-1.2 ms, p99 57-81 against 27-65 ms, in alternating runs).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import tcp
from twisted.web import http


class PromptWriteServer(tcp.Server):
    _held: bytes = b""
    _hold_next_sequence = False
    _flush_scheduled = False
    prompt = True  # False once the connection has become a websocket

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setTcpNoDelay(True)

    @property
    def protocol(self) -> Any:
        try:
            return self.__dict__["protocol"]
        except KeyError:
            raise AttributeError("protocol") from None

    @protocol.setter
    def protocol(self, protocol: Any) -> None:
        # daphne hands an upgraded connection to its websocket protocol this way.
        self.__dict__["protocol"] = protocol
        self.prompt = not isinstance(protocol, WebSocketProtocol)

    @protocol.deleter
    def protocol(self) -> None:  # Twisted drops it when the connection is lost
        self.__dict__.pop("protocol", None)

    def _nothing_waiting(self) -> bool:
        return bool(
            self.prompt
            and self.connected
            and not self.disconnecting
            and not self._writeDisconnecting
            and not self.TLS
            and not self._tempDataLen
            and not self.dataBuffer
        )

    def write(self, data: bytes) -> None:
        if self._held:
            data = self._held + data
            self._held = b""
        if data and self._nothing_waiting():
            sent = self.writeSomeData(data)
            if type(sent) is int:
                if sent == len(data):
                    return
                data = data[sent:]
            # A lost connection is left to Twisted's buffered path: its next write
            # attempt sees the same error and closes the connection as usual.
        super().write(data)  # type: ignore[no-untyped-call]

    def writeSequence(self, iovec: Iterable[bytes]) -> None:  # noqa: N802 - Twisted's name
        if self._hold_next_sequence:
            self._hold_next_sequence = False
            self._hold(b"".join(iovec))
            return
        self.write(b"".join(iovec))

    def hold_next_sequence(self, hold: bool = True) -> None:
        """The next ``writeSequence`` waits for the write after it (response headers)."""
        self._hold_next_sequence = hold

    def _hold(self, data: bytes) -> None:
        self._held += data
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop = getattr(self.reactor, "_asyncioEventloop", None)
            if loop is not None:
                loop.call_soon(self._flush_held)
            else:
                self.reactor.callLater(0, self._flush_held)

    def _flush_held(self) -> None:
        self._flush_scheduled = False
        if self._held:
            self.write(b"")

    def loseConnection(self) -> None:  # noqa: N802 - Twisted's name
        if self._held:
            self.write(b"")
        super().loseConnection()  # type: ignore[no-untyped-call]


_twisted_write_headers = http.HTTPChannel.writeHeaders


def _write_headers_with_body(
    channel: http.HTTPChannel, version: bytes, code: bytes, reason: bytes, headers: Any
) -> None:
    transport = channel.transport
    if not isinstance(transport, PromptWriteServer):
        _twisted_write_headers(channel, version, code, reason, headers)  # type: ignore[no-untyped-call]
        return
    transport.hold_next_sequence()
    try:
        _twisted_write_headers(channel, version, code, reason, headers)  # type: ignore[no-untyped-call]
    finally:
        transport.hold_next_sequence(False)


def install() -> None:
    # Every TCP port daphne listens on makes its connections from this class.
    tcp.Port.transport = PromptWriteServer
    http.HTTPChannel.writeHeaders = _write_headers_with_body  # type: ignore[method-assign]
