"""Realtime events to every open socket, in every web process, over Redis pub/sub.

Events have a topic: a conversation (``conversation:<id>``: started, delta, done)
or a user (``user:<id>``: notices, revocations, sent by any process, Celery workers
included, see ``chatapp.events``). An event is one ``PUBLISH`` on
``chat:events:<topic>``. Each web process keeps one subscriber connection per event
loop, subscribed to the topics that have a socket open in it, and hands each event
straight to those sockets' callbacks: no per-socket channel, no per-event thread hop
(what a Channels layer costs for each token of every stream). A streamed delta is
appended to the live copy of its answer (``chatapp.live``) in the same round trip as
its publication, so a client that reads the live copy after joining misses nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import redis.asyncio as aioredis

from chatapp.live import TEXT_KEY, TTL_SECONDS
from providers.redis_clients import DRIVER_INFO

logger = logging.getLogger(__name__)

CHANNEL_PREFIX: Final = "chat:events:"
# Stop requests for answers being generated, to every web process: the one generating
# the answer stops it at its next chunk instead of polling for it.
STOPS_CHANNEL: Final = "chat:stops"
RECONNECT_SECONDS: Final = 1.0
PUBLISH_TIMEOUT_SECONDS: Final = 5.0
LIVE_TTL_REFRESH_SECONDS: Final = 60.0

Deliver = Callable[[dict[str, Any]], Awaitable[None]]
# channel, data, (message id, text) for the live copy, resolved once sent
Outgoing = tuple[str, str, "tuple[int, str] | None", "asyncio.Future[None]"]


def conversation_topic(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def user_topic(user_id: int) -> str:
    return f"user:{user_id}"


def channel_name(topic: str) -> str:
    return f"{CHANNEL_PREFIX}{topic}"


def event_data(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False)


class ConversationHub:
    """The sockets of one event loop, by topic, and the connection feeding them."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._sockets: dict[str, list[Deliver]] = {}
        self._client: aioredis.Redis | None = None
        self._pubsub: aioredis.client.PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()
        self._outbox: list[Outgoing] = []
        self._flusher: asyncio.Task[None] | None = None
        self._generating: set[int] = set()
        self.stopped: set[int] = set()  # of the answers generated here
        self._live_ttl_at: dict[int, float] = {}  # answer → when its live copy's TTL was set

    async def generation_begin(self, message_id: int) -> None:
        """Follow stop requests for this answer (``stopped`` gets its id). Returns once
        this loop is subscribed to them."""
        self._generating.add(message_id)
        async with self._lock:
            confirmed = self._confirmed.get(STOPS_CHANNEL)
            if confirmed is None:
                pubsub = self._ensure_reader()
                if STOPS_CHANNEL not in pubsub.channels:
                    confirmed = asyncio.get_running_loop().create_future()
                    self._confirmed[STOPS_CHANNEL] = confirmed
                    await pubsub.subscribe(STOPS_CHANNEL)
        if confirmed is not None:
            await asyncio.wait_for(asyncio.shield(confirmed), timeout=10)

    def generation_end(self, message_id: int) -> None:
        self._generating.discard(message_id)
        self.stopped.discard(message_id)
        self._live_ttl_at.pop(message_id, None)

    def _live_ttl_due(self, message_id: int, now: float) -> bool:
        """Whether this append to an answer's live copy sets its TTL again: for the
        answers generated here, once a minute (a third of the commands of a stream
        otherwise); for any other, every time."""
        if message_id not in self._generating:
            return True
        last = self._live_ttl_at.get(message_id)
        if last is not None and now - last < LIVE_TTL_REFRESH_SECONDS:
            return False
        self._live_ttl_at[message_id] = now
        return True

    async def stop_broadcast(self, message_id: int) -> None:
        await self._redis().publish(STOPS_CHANNEL, str(message_id))

    async def join(self, topic: str, deliver: Deliver) -> None:
        """From now on, ``deliver`` gets every event of ``topic``. Returns once Redis
        has confirmed the subscription, so nothing published after is missed."""
        name = channel_name(topic)
        async with self._lock:
            sockets = self._sockets.setdefault(topic, [])
            sockets.append(deliver)
            confirmed = self._confirmed.get(name)
            if confirmed is None and len(sockets) == 1:
                pubsub = self._ensure_reader()
                confirmed = asyncio.get_running_loop().create_future()
                self._confirmed[name] = confirmed
                await pubsub.subscribe(name)
        if confirmed is not None:  # else another socket's subscription is confirmed
            await asyncio.wait_for(asyncio.shield(confirmed), timeout=10)

    async def leave(self, topic: str, deliver: Deliver) -> None:
        async with self._lock:
            sockets = self._sockets.get(topic, [])
            if deliver in sockets:
                sockets.remove(deliver)
            if sockets or topic not in self._sockets:
                return
            del self._sockets[topic]
            if self._pubsub is not None:
                await self._pubsub.unsubscribe(channel_name(topic))

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            # No timeout per command read (an asyncio timer each, three per event in a
            # pipeline): publications have one per round trip, the subscriber none.
            self._client = aioredis.Redis.from_url(
                self._url, decode_responses=True, socket_timeout=None, driver_info=DRIVER_INFO
            )
        return self._client

    def _ensure_reader(self) -> aioredis.client.PubSub:
        if self._pubsub is None:
            self._pubsub = self._redis().pubsub()
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())
        return self._pubsub

    async def _read(self) -> None:
        while True:
            pubsub = self._pubsub
            try:
                if pubsub is None or not pubsub.subscribed:
                    await asyncio.sleep(0.05)
                    continue
                message = await pubsub.get_message(timeout=None)  # blocks until one
                if message is not None:
                    await self._route(message)
            except asyncio.CancelledError:
                raise
            except Exception:  # the connection dropped: start over with the same sockets
                logger.warning("conversation event stream lost; reconnecting", exc_info=True)
                await asyncio.sleep(RECONNECT_SECONDS)
                await self._resubscribe()

    async def _resubscribe(self) -> None:
        async with self._lock:
            if self._pubsub is not None:
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = self._redis().pubsub()
            names = [channel_name(c) for c in self._sockets]
            if self._generating:
                names.append(STOPS_CHANNEL)
            if names:
                await self._pubsub.subscribe(*names)

    async def _route(self, message: dict[str, Any]) -> None:
        name = str(message.get("channel", ""))
        if message["type"] == "subscribe":
            waiting = self._confirmed.pop(name, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(None)
            return
        if message["type"] != "message":
            return
        if name == STOPS_CHANNEL:
            stopped = int(message["data"])
            if stopped in self._generating:
                self.stopped.add(stopped)
            return
        if not name.startswith(CHANNEL_PREFIX):
            return
        sockets = self._sockets.get(name.removeprefix(CHANNEL_PREFIX))
        if not sockets:
            return
        event = json.loads(message["data"])
        for deliver in list(sockets):
            try:
                await deliver(event)
            except Exception:  # one closing socket must not starve the others
                logger.debug("socket could not take a conversation event", exc_info=True)

    async def publish(
        self, topic: str, event: dict[str, Any], *, live: tuple[int, str] | None = None
    ) -> None:
        """Send ``event`` to every socket on ``topic``; with ``live`` (message id,
        text), append the text to that answer's live copy first, in the same round
        trip. Returns once Redis has it."""
        await self.enqueue(topic, event, live=live)

    def enqueue(
        self, topic: str, event: dict[str, Any], *, live: tuple[int, str] | None = None
    ) -> asyncio.Future[None]:
        """``publish`` without waiting: the future resolves once Redis has it.

        Publications wait in one queue per event loop and go out together, one
        pipeline per round trip: under load, many streams share each round trip; an
        idle hub sends at once. The queue keeps each topic's events in order."""
        loop = asyncio.get_running_loop()
        sent = loop.create_future()
        self._outbox.append((channel_name(topic), event_data(event), live, sent))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        return sent

    async def _flush(self) -> None:
        while self._outbox:
            batch, self._outbox = self._outbox, []
            try:
                async with (
                    asyncio.timeout(PUBLISH_TIMEOUT_SECONDS),
                    self._redis().pipeline(transaction=False) as pipe,
                ):
                    now = time.monotonic()
                    for name, data, live, _ in batch:
                        if live is not None:
                            key = TEXT_KEY.format(live[0])
                            pipe.append(key, live[1])
                            if self._live_ttl_due(live[0], now):
                                pipe.expire(key, TTL_SECONDS)
                        pipe.publish(name, data)
                    await pipe.execute()
            except Exception as exc:  # each publisher decides what a lost event means
                for *_, sent in batch:
                    if not sent.done():
                        sent.set_exception(exc)
            else:
                for *_, sent in batch:
                    if not sent.done():
                        sent.set_result(None)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        if self._client is not None:
            await self._client.aclose()
