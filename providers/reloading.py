"""A value read from the database and kept per process for a while: the gateway's
configuration, budgets, personal data policy and credential index.

Changes reach it as events (``invalidate``, from this process's services or the
Redis channel of ``providers.events``); its age only bounds how long a missed event
can go unnoticed. So past ``max_age`` an async caller is not made to wait: it gets
the value it has while one reload runs in a worker thread beside the requests, for
as long again as ``max_age`` (reloading on the request path held every request that
arrived meanwhile: 6 ms for eight streams at once, ``bench.gateway``). After that, or
with nothing loaded, the caller waits for the load. Blocking callers (Celery tasks,
sync views) always load once the value is past its age.

A load that began before an ``invalidate`` may have missed the change: its value is
handed to the caller that asked for it but not kept.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from asgiref.sync import sync_to_async

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Reloading(Generic[T]):
    def __init__(self, name: str, load: Callable[[], T], *, max_age: float) -> None:
        self.name = name
        self.max_age = max_age
        self._load = load
        self._value: T | None = None
        self._loaded_at = 0.0
        self._generation = 0
        self._lock = threading.Lock()  # one blocking load at a time
        self._reloading = False
        self._reload_task: asyncio.Task[None] | None = None

    def _age(self) -> float:
        return time.monotonic() - self._loaded_at

    def fresh(self) -> T | None:
        """The value if it is within its age, else None (never loads)."""
        value = self._value
        if value is not None and self._age() < self.max_age:
            return value
        return None

    def get(self) -> T:
        """The value, loaded here if it is missing or past its age (may query)."""
        value = self.fresh()
        if value is not None:
            return value
        with self._lock:
            value = self.fresh()  # another thread may have loaded it meanwhile
            if value is not None:
                return value
            return self._load_and_keep()

    async def aget(self) -> T:
        """The value without a query while it is fresh or a reload can run beside."""
        value = self._value
        if value is not None:
            age = self._age()
            if age < self.max_age:
                return value
            if age < 2 * self.max_age:
                self._reload_beside()
                return value
        return await sync_to_async(self.get)()

    def invalidate(self) -> None:
        self._generation += 1
        self._value = None

    def _load_and_keep(self) -> T:
        generation = self._generation
        started = time.monotonic()
        value = self._load()
        if generation == self._generation:
            self._value, self._loaded_at = value, started
        return value

    def _reload_beside(self) -> None:
        if self._reloading:
            return
        self._reloading = True
        self._reload_task = asyncio.ensure_future(self._reload())

    async def _reload(self) -> None:
        try:
            await sync_to_async(self._reload_sync)()
        except Exception:
            logger.exception("could not reload the gateway's %s", self.name)
        finally:
            self._reloading = False

    def _reload_sync(self) -> None:
        with self._lock:
            if self.fresh() is None:
                self._load_and_keep()

    async def settled(self) -> None:
        """Once a reload running beside has finished (tests)."""
        task = self._reload_task
        if task is not None:
            await asyncio.wait({task})
