"""Incremental decoding of the AWS event stream (``application/vnd.amazon.eventstream``).

Each message, as AWS documents it ("Event stream encoding"):

* prelude: total length (u32, big-endian, the whole message), headers length (u32);
* prelude CRC32 over those 8 bytes;
* headers: name length (u8), name (UTF-8), value type (u8), value;
* payload: ``total - headers - 16`` bytes;
* message CRC32 over everything before it.

Bytes may arrive split anywhere; ``feed`` keeps what it cannot decode yet.
Corruption (a CRC mismatch, impossible lengths, a header running past its
section) raises ``ProviderError``: there is no way to resynchronise a framing
whose lengths cannot be trusted.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from providers.errors import ProviderError

PRELUDE_BYTES = 8
PRELUDE_WITH_CRC = 12
OVERHEAD_BYTES = 16  # prelude, prelude CRC, message CRC
# Far above any Converse event; a bigger claimed length means a corrupt prelude
# that happened to pass its CRC, and we will not buffer towards it.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

HeaderValue = bool | int | bytes | str

# value type → fixed width in bytes (None: a u16 length prefix follows)
_FIXED_WIDTH: dict[int, int | None] = {
    0: 0,  # bool true
    1: 0,  # bool false
    2: 1,  # byte
    3: 2,  # short
    4: 4,  # integer
    5: 8,  # long
    6: None,  # byte array
    7: None,  # string
    8: 8,  # timestamp (ms since epoch)
    9: 16,  # uuid
}
_INT_FORMATS = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}


@dataclass(frozen=True)
class EventMessage:
    headers: dict[str, HeaderValue]
    payload: bytes

    def header(self, name: str) -> str:
        """A string header's value, or "" when it is absent or not a string."""
        value = self.headers.get(name)
        return value if isinstance(value, str) else ""


def corrupt(detail: str) -> ProviderError:
    return ProviderError(f"The model sent a corrupt event stream ({detail})", retryable=True)


def decode_headers(data: bytes) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    pos = 0
    while pos < len(data):
        name_len = data[pos]
        pos += 1
        if pos + name_len + 1 > len(data):
            raise corrupt("header name runs past the header section")
        name = data[pos : pos + name_len].decode("utf-8", errors="replace")
        pos += name_len
        kind = data[pos]
        pos += 1
        if kind not in _FIXED_WIDTH:
            raise corrupt(f"unknown header value type {kind}")
        width = _FIXED_WIDTH[kind]
        if width is None:
            if pos + 2 > len(data):
                raise corrupt("header value length runs past the header section")
            (width,) = struct.unpack_from(">H", data, pos)
            pos += 2
        if pos + width > len(data):
            raise corrupt("header value runs past the header section")
        raw = data[pos : pos + width]
        pos += width
        value: HeaderValue
        if kind in (0, 1):
            value = kind == 0
        elif kind in _INT_FORMATS:
            (value,) = struct.unpack(_INT_FORMATS[kind], raw)
        elif kind == 7:
            value = raw.decode("utf-8", errors="replace")
        else:
            value = raw
        headers[name] = value
    return headers


class EventStreamDecoder:
    """Feed raw body bytes; get whole, CRC-checked messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a whole message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[EventMessage]:
        self._buffer += data
        messages: list[EventMessage] = []
        while len(self._buffer) >= PRELUDE_WITH_CRC:
            total, headers_len, prelude_crc = struct.unpack_from(">III", self._buffer, 0)
            if zlib.crc32(self._buffer[:PRELUDE_BYTES]) != prelude_crc:
                raise corrupt("prelude checksum mismatch")
            if total < OVERHEAD_BYTES or total > MAX_MESSAGE_BYTES:
                raise corrupt(f"impossible message length {total}")
            if headers_len > total - OVERHEAD_BYTES:
                raise corrupt("headers longer than the message")
            if len(self._buffer) < total:
                break
            message = bytes(self._buffer[:total])
            del self._buffer[:total]
            (message_crc,) = struct.unpack_from(">I", message, total - 4)
            if zlib.crc32(message[: total - 4]) != message_crc:
                raise corrupt("message checksum mismatch")
            headers_end = PRELUDE_WITH_CRC + headers_len
            messages.append(
                EventMessage(
                    headers=decode_headers(message[PRELUDE_WITH_CRC:headers_end]),
                    payload=message[headers_end : total - 4],
                )
            )
        return messages
