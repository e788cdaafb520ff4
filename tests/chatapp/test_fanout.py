"""The realtime fan-out (Redis pub/sub, one subscriber per loop) and the batched
writer of streamed text, with the real Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
import redis
from django.conf import settings

from chatapp.events import send_event_now
from chatapp.fanout import ConversationHub, conversation_topic, user_topic
from chatapp.live import TEXT_KEY, TTL_SECONDS, live_text
from chatapp.models import Conversation, Message
from chatapp.services import (
    assistant_message_start,
    assistant_texts_append,
    conversation_create,
    user_message_add,
)
from chatapp.textwriter import AnswerTextWriter
from providers.models import Deployment
from tests.personas import Personas

T = TypeVar("T")


def run_on_own_loop(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """A loop on a thread of its own, whatever loop the browser tests left on the main
    thread (the database tests here are transactional: other threads see their rows)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, scenario()).result()


class Inbox:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.arrived.set()

    async def wait_for(self, count: int) -> list[dict[str, Any]]:
        while len(self.events) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), timeout=5)
        return self.events


def test_every_process_gets_each_topic_event_once_and_in_order() -> None:
    async def scenario() -> None:
        # two hubs stand for two web processes, each with its own subscriber
        here, there = ConversationHub(settings.REDIS_URL), ConversationHub(settings.REDIS_URL)
        topic = conversation_topic(987_001)
        a, b, c, other = Inbox(), Inbox(), Inbox(), Inbox()
        await here.join(topic, a)
        await here.join(topic, b)  # a second tab in the same process
        await there.join(topic, c)
        await there.join(conversation_topic(987_002), other)
        for i in range(50):
            event = {"type": "message.delta", "message_id": 5, "offset": i, "text": "가"}
            await here.publish(topic, event, live=(987_001_5, "가"))
        for inbox in (a, b, c):
            assert [e["offset"] for e in await inbox.wait_for(50)] == list(range(50))
        assert other.events == []
        assert await live_text(987_001_5) == "가" * 50
        # a socket that left gets nothing more; the others still do
        await here.leave(topic, a)
        await there.publish(topic, {"type": "message.done", "message_id": 5})
        assert (await b.wait_for(51))[-1]["type"] == "message.done"
        assert (await c.wait_for(51))[-1]["type"] == "message.done"
        await asyncio.sleep(0.05)
        assert len(a.events) == 50
        await here.close()
        await there.close()

    run_on_own_loop(scenario)


def test_user_events_from_sync_code_reach_the_user_sockets_only() -> None:
    async def scenario() -> None:
        hub = ConversationHub(settings.REDIS_URL)
        mine, someone_else = Inbox(), Inbox()
        await hub.join(user_topic(41), mine)
        await hub.join(user_topic(42), someone_else)
        # from a thread, as a Celery task or a view would send it
        sender = threading.Thread(
            target=send_event_now, args=(41, {"type": "session.revoked", "reason": "x"})
        )
        sender.start()
        sender.join()
        assert await mine.wait_for(1) == [{"type": "session.revoked", "reason": "x"}]
        assert someone_else.events == []
        await hub.close()

    run_on_own_loop(scenario)


@pytest.fixture
def answers(
    personas: Personas, deployment_factory: Callable[..., Deployment]
) -> tuple[Message, Message]:
    deployment_factory("chat-model")
    conversation: Conversation = conversation_create(user=personas.member, model_name="chat-model")
    question = user_message_add(conversation, text="질문", parent=None)
    first = assistant_message_start(conversation, parent=question, model_name="m", worker="w")
    second = assistant_message_start(conversation, parent=question, model_name="m", worker="w")
    return first, second


@pytest.mark.django_db(transaction=True)
def test_text_of_many_answers_is_written_in_one_batch_in_order(
    answers: tuple[Message, Message], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = answers
    writes: list[dict[int, str]] = []
    real_append = assistant_texts_append

    def recording(texts: dict[int, str]) -> None:
        writes.append(dict(texts))
        real_append(texts)

    monkeypatch.setattr("chatapp.textwriter.assistant_texts_append", recording)

    async def scenario() -> str:
        writer = AnswerTextWriter(interval=60, max_chars=10_000)
        for piece in ("연차", "휴가는 ", "15일"):
            writer.append(first.pk, piece)
        writer.append(second.pk, "둘째")
        await writer.write()
        writer.append(first.pk, "입니다.")
        return await writer.settle(first.pk)

    tail = run_on_own_loop(scenario)
    assert writes == [{first.pk: "연차휴가는 15일", second.pk: "둘째"}]
    assert tail == "입니다."  # taken back, not written: the caller stores it last
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.content, second.content) == ("연차휴가는 15일", "둘째")


@pytest.mark.django_db(transaction=True)
def test_settle_waits_for_the_write_in_flight_and_a_failed_write_keeps_its_text(
    answers: tuple[Message, Message], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = answers
    release = threading.Event()
    attempts: list[dict[int, str]] = []
    real_append = assistant_texts_append

    def slow_then_working(texts: dict[int, str]) -> None:
        attempts.append(dict(texts))
        if len(attempts) == 1:
            raise RuntimeError("database away")
        release.wait(timeout=5)
        real_append(texts)

    monkeypatch.setattr("chatapp.textwriter.assistant_texts_append", slow_then_working)

    async def scenario() -> str:
        writer = AnswerTextWriter(interval=60, max_chars=10_000)
        writer.append(first.pk, "하나 ")
        await writer.write()  # fails: the text waits for the next write
        writer.append(first.pk, "둘 ")
        in_flight = asyncio.ensure_future(writer.write())
        await asyncio.sleep(0.05)
        writer.append(first.pk, "셋")
        settling = asyncio.ensure_future(writer.settle(first.pk))
        await asyncio.sleep(0.05)
        assert not settling.done()  # the earlier text is still being written
        release.set()
        await in_flight
        return await settling

    assert run_on_own_loop(scenario) == "셋"
    assert attempts == [{first.pk: "하나 "}, {first.pk: "하나 둘 "}]
    first.refresh_from_db()
    assert first.content == "하나 둘 "


@pytest.mark.django_db(transaction=True)
def test_a_long_batch_is_written_before_the_interval(answers: tuple[Message, Message]) -> None:
    first, _ = answers

    async def scenario() -> None:
        writer = AnswerTextWriter(interval=60, max_chars=100)
        writer.append(first.pk, "가" * 150)
        for _ in range(100):
            await asyncio.sleep(0.05)
            if await asyncio.to_thread(_content, first.pk):
                return
        raise AssertionError("not written")

    run_on_own_loop(scenario)
    first.refresh_from_db()
    assert first.content == "가" * 150


def _content(message_id: int) -> str:
    from django.db import connection

    try:
        return Message.objects.get(pk=message_id).content
    finally:
        connection.close()


def test_a_streamed_answers_live_copy_keeps_a_ttl_set_once_not_per_batch() -> None:
    async def scenario() -> tuple[int, int]:
        hub = ConversationHub(settings.REDIS_URL)
        topic, message_id = conversation_topic(987_101), 987_101_7
        client = redis.Redis.from_url(settings.REDIS_URL)
        expires_before = client.info("commandstats").get("cmdstat_expire", {}).get("calls", 0)
        await hub.generation_begin(message_id)
        for i in range(20):
            event = {"type": "message.delta", "message_id": message_id, "offset": i, "text": "가"}
            await hub.publish(topic, event, live=(message_id, "가"))
        hub.generation_end(message_id)
        expires = client.info("commandstats").get("cmdstat_expire", {}).get("calls", 0)
        ttl = client.ttl(TEXT_KEY.format(message_id))
        await hub.close()
        return expires - expires_before, ttl

    expires, ttl = run_on_own_loop(scenario)
    assert expires == 1
    assert 3500 < ttl <= TTL_SECONDS
