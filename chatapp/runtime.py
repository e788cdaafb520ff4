"""Per-process chat state: Redis clients, event fan-out and text writer per event
loop, and the running generations.

Created by ``ChatappConfig.ready()`` (no module-level state, R8).
"""

from __future__ import annotations

import asyncio
import os
import socket
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from django.apps import apps
from django.conf import settings
from redis import Redis as SyncRedis

from providers.redis_clients import async_redis, sync_redis

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from typing import Any

    from chatapp.fanout import ConversationHub
    from chatapp.textwriter import AnswerTextWriter


class ChatRuntime:
    def __init__(self) -> None:
        self._redis: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self._hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConversationHub] = (
            weakref.WeakKeyDictionary()
        )
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AnswerTextWriter] = (
            weakref.WeakKeyDictionary()
        )
        self._sync_redis: SyncRedis | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self._db_executor: ThreadPoolExecutor | None = None
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"

    def redis(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._redis.get(loop)
        if client is None:
            client = async_redis(decode_responses=True)
            self._redis[loop] = client
        return client

    def sync_redis(self) -> SyncRedis:
        """A client for sync code (thread-safe: its pool hands each thread a connection)."""
        if self._sync_redis is None:
            self._sync_redis = sync_redis(decode_responses=True)
        return self._sync_redis

    def hub(self) -> ConversationHub:
        """This event loop's fan-out of conversation events (``chatapp.fanout``)."""
        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None:
            from chatapp.fanout import ConversationHub  # it reads chatapp.live, which uses this

            hub = self._hubs[loop] = ConversationHub(settings.REDIS_URL)
        return hub

    def text_writer(self) -> AnswerTextWriter:
        """This event loop's batched writer of streamed text (``chatapp.textwriter``)."""
        loop = asyncio.get_running_loop()
        writer = self._writers.get(loop)
        if writer is None:
            from chatapp.textwriter import AnswerTextWriter

            writer = self._writers[loop] = AnswerTextWriter()
        return writer

    def db_executor(self) -> ThreadPoolExecutor:
        """The threads of ``chatapp.dbthread.db_call``."""
        if self._db_executor is None:
            self._db_executor = ThreadPoolExecutor(
                settings.CHAT_DB_THREADS, thread_name_prefix="chat-db"
            )
        return self._db_executor

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a generation independently of the socket that asked for it."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


def get_chat_runtime() -> ChatRuntime:
    runtime: ChatRuntime = apps.get_app_config("chatapp").runtime  # type: ignore[attr-defined]
    return runtime
