"""ConverseStream's binary AWS event stream: the framing (CRCs, header types, any
split of the bytes), then events → chunks, exceptions and streams cut short."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from providers.adapters.bedrock import BedrockAdapter
from providers.adapters.bedrock.eventstream import EventStreamDecoder
from providers.errors import ProviderError
from providers.types import ChatChunk, ChatRequest, DeploymentTarget, ToolCallDelta, Usage
from tests.fake_upstream.bedrock_format import encode_event_message, exception_event

SAMPLE = Path(__file__).parent / "samples" / "bedrock_converse_stream.bin"
TARGET = DeploymentTarget(3, "bedrock", "anthropic.claude-3-7-sonnet-20250219-v1:0", api_base="")
REQUEST = ChatRequest(model="claude", messages=[])
ADAPTER = BedrockAdapter()


def test_hand_checked_frames_decode() -> None:
    # given two messages laid out byte by byte: the smallest one (no headers, no
    # payload) and one string header ":event-type" = "messageStop" with payload "{}"
    empty = bytes.fromhex(
        "00000010"  # total length 16
        "00000000"  # headers length 0
        "05c248eb"  # CRC32 of the 8 prelude bytes
        "7d98c8ff"  # CRC32 of the 12 bytes before it
    )
    stop = bytes.fromhex(
        "0000002c"  # total length 44 = 12 + 26 + 2 + 4
        "0000001a"  # headers length 26 = 1 + 11 + 1 + 2 + 11
        "9c71e416"  # prelude CRC32
        "0b"  # header name length 11
        "3a6576656e742d74797065"  # ":event-type"
        "07"  # value type 7: string
        "000b"  # value length 11
        "6d65737361676553746f70"  # "messageStop"
        "7b7d"  # payload "{}"
        "b92400bb"  # message CRC32
    )
    assert zlib.crc32(stop[:8]) == 0x9C71E416
    assert zlib.crc32(stop[:-4]) == 0xB92400BB
    # when
    messages = EventStreamDecoder().feed(empty + stop)
    # then the decoder reads them, and the fake's encoder writes the same bytes
    assert [(m.headers, m.payload) for m in messages] == [
        ({}, b""),
        ({":event-type": "messageStop"}, b"{}"),
    ]
    assert encode_event_message({}, b"") == empty
    assert encode_event_message({":event-type": "messageStop"}, b"{}") == stop


def test_non_string_header_types_are_decoded() -> None:
    # given headers of every fixed-width kind plus a byte array
    headers = (
        b"\x01t\x00"  # bool true
        + b"\x01f\x01"  # bool false
        + b"\x01i\x04"
        + struct.pack(">i", -7)
        + b"\x01l\x05"
        + struct.pack(">q", 2**40)
        + b"\x01b\x06\x00\x02\xff\x00"
        + b"\x01u\x09"
        + bytes(range(16))
    )
    prelude = struct.pack(">II", 16 + len(headers), len(headers))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers
    # when
    (message,) = EventStreamDecoder().feed(head + struct.pack(">I", zlib.crc32(head)))
    # then
    assert message.headers == {
        "t": True,
        "f": False,
        "i": -7,
        "l": 2**40,
        "b": b"\xff\x00",
        "u": bytes(range(16)),
    }


def collect(raw: bytes, size: int) -> list[ChatChunk]:
    parser = ADAPTER.stream_parser(request=REQUEST, target=TARGET)
    chunks = [c for i in range(0, len(raw), size) for c in parser.feed(raw[i : i + size])]
    return chunks + parser.close()


@pytest.mark.parametrize("size", [1, 3, 7, 64, 100_000])
def test_stream_sample_in_any_split(size: int) -> None:
    # given a recorded stream: reasoning, text, then a tool call split in fragments
    raw = SAMPLE.read_bytes()
    # when it arrives in pieces of `size` bytes
    chunks = collect(raw, size)
    # then
    assert "".join(c.reasoning for c in chunks) == (
        "The user asks about the weather; I should call the tool."
    )
    assert "".join(c.delta for c in chunks) == "서울 날씨를 확인할게요."
    deltas = [d for c in chunks for d in c.tool_calls]
    assert deltas[0] == ToolCallDelta(index=0, id="tooluse_Qx3fV0q8TjqN1cSd2bXk7w", name="weather")
    assert {d.index for d in deltas} == {0}
    assert json.loads("".join(d.arguments for d in deltas)) == {"city": "서울"}
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["tool_calls"]
    assert chunks[-1].usage == Usage(
        prompt_tokens=410 + 128, completion_tokens=96, cached_tokens=128
    )
    assert len({c.id for c in chunks}) == 1


@pytest.mark.parametrize(("offset", "what"), [(2, "prelude checksum"), (-6, "message checksum")])
def test_corruption_is_detected(offset: int, what: str) -> None:
    # given the sample with one byte flipped in the first prelude or the last payload
    raw = bytearray(SAMPLE.read_bytes())
    raw[offset] ^= 0x01
    # when / then
    with pytest.raises(ProviderError, match=what):
        collect(bytes(raw), 64)


@pytest.mark.parametrize(
    ("exception_type", "status", "retryable"),
    [
        ("throttlingException", 429, True),
        ("serviceUnavailableException", 503, True),
        ("modelStreamErrorException", 424, True),
        ("internalServerException", 500, True),
        ("validationException", 400, False),
    ],
)
def test_exception_events_raise_provider_errors(
    exception_type: str, status: int, retryable: bool
) -> None:
    # given a stream that fails after it started
    parser = ADAPTER.stream_parser(request=REQUEST, target=TARGET)
    start = encode_event_message(
        {":event-type": "messageStart", ":message-type": "event"}, b'{"role":"assistant"}'
    )
    assert parser.feed(start) == []
    # when / then
    with pytest.raises(ProviderError, match="Model is busy") as caught:
        parser.feed(exception_event(exception_type, "Model is busy"))
    assert (caught.value.status, caught.value.retryable) == (status, retryable)
    assert caught.value.provider_code == exception_type


def frame_ends(raw: bytes) -> list[int]:
    """Where each message of a stream ends (from the total length in its prelude)."""
    ends = [0]
    while ends[-1] < len(raw):
        (total,) = struct.unpack_from(">I", raw, ends[-1])
        ends.append(ends[-1] + total)
    return ends[1:]


@pytest.mark.parametrize(
    ("cut", "message"),
    [(-2, "ended before it finished"), (-1, "middle of an event")],
)
def test_stream_cut_short_is_an_error(cut: int, message: str) -> None:
    # given the sample cut before its last two events (messageStop, metadata), or
    # inside its last event
    raw = SAMPLE.read_bytes()
    end = frame_ends(raw)[cut - 1] if cut == -2 else len(raw) - 5
    parser = ADAPTER.stream_parser(request=REQUEST, target=TARGET)
    parser.feed(raw[:end])
    # when / then
    with pytest.raises(ProviderError, match=message) as caught:
        parser.close()
    assert caught.value.retryable is True
