"""Per-process chat state: Redis clients per event loop and the running generations.

Created by ``ChatappConfig.ready()`` (no module-level state, R8).
"""

from __future__ import annotations

import asyncio
import os
import socket
import weakref
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from django.apps import apps
from django.conf import settings

if TYPE_CHECKING:
    from collections.abc import Coroutine
    from typing import Any


class ChatRuntime:
    def __init__(self) -> None:
        self._redis: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self.tasks: set[asyncio.Task[None]] = set()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"

    def redis(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._redis.get(loop)
        if client is None:
            client = aioredis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
            self._redis[loop] = client
        return client

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a generation independently of the socket that asked for it."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


def get_chat_runtime() -> ChatRuntime:
    runtime: ChatRuntime = apps.get_app_config("chatapp").runtime  # type: ignore[attr-defined]
    return runtime
