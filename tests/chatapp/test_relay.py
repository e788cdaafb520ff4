"""How an answer's text is paced to the clients (chatapp.generation.Relay)."""

from __future__ import annotations

import asyncio
from typing import Any

from chatapp.generation import RELAY_SECONDS, Relay
from tests.aio import run


class RecordingHub:
    def __init__(self) -> None:
        self.sent: list[tuple[float, dict[str, Any], tuple[int, str] | None]] = []

    def enqueue(
        self, topic: str, event: dict[str, Any], *, live: tuple[int, str] | None = None
    ) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        self.sent.append((loop.time(), event, live))
        done = loop.create_future()
        done.set_result(None)
        return done


def test_text_held_by_the_pace_goes_out_when_its_time_comes_not_with_the_next_chunk() -> None:
    async def scenario() -> tuple[float, RecordingHub]:
        hub = RecordingHub()
        relay = Relay(hub, "conversation:1", 7)  # type: ignore[arg-type]
        started = asyncio.get_running_loop().time()
        await relay.add("안녕")  # nothing sent yet: at once
        await relay.add("하세요")  # too soon: held
        await relay.add(" 반갑")  # held with it
        assert len(hub.sent) == 1
        await asyncio.sleep(RELAY_SECONDS * 3)  # no further chunk arrives
        await relay.add("습니다")  # the pace allows it again: at once
        await relay.flush()
        return started, hub

    started, hub = run(scenario())
    events = [event for _, event, _ in hub.sent]
    assert [(e["offset"], e["text"]) for e in events] == [
        (0, "안녕"),
        (2, "하세요 반갑"),
        (8, "습니다"),
    ]
    assert all(e["message_id"] == 7 for e in events)
    assert [live for *_, live in hub.sent] == [(7, e["text"]) for e in events]
    held_at = hub.sent[1][0] - started
    assert RELAY_SECONDS * 0.9 <= held_at < RELAY_SECONDS * 2.5


def test_a_final_flush_sends_what_is_held_and_cancels_the_timer() -> None:
    async def scenario() -> RecordingHub:
        hub = RecordingHub()
        relay = Relay(hub, "conversation:1", 7)  # type: ignore[arg-type]
        await relay.add("a")
        await relay.add("b")
        await relay.flush()
        await asyncio.sleep(RELAY_SECONDS * 2)
        return hub

    hub = run(scenario())
    assert [e["text"] for _, e, _ in hub.sent] == ["a", "b"]


def test_text_held_when_the_stream_ends_leaves_before_the_stream_is_closed() -> None:
    async def scenario() -> RecordingHub:
        hub = RecordingHub()
        relay = Relay(hub, "conversation:1", 7)  # type: ignore[arg-type]
        await relay.add("마지막")
        await relay.add(" 말")  # held by the pace
        relay.release()  # the stream ended: closing it may take a while
        assert [e["text"] for _, e, _ in hub.sent] == ["마지막", " 말"]
        await relay.flush()
        return hub

    hub = run(scenario())
    assert len(hub.sent) == 2
