"""Per-process gateway state: HTTP clients, the configuration snapshot, the key
cache, routing statistics, cooldowns and the ledger writer.

Created once by ``ProvidersConfig.ready()`` (no import-time state, R8) and
reached through ``get_runtime()``. Changes made by other processes arrive on
the Redis pub/sub channel of ``providers.events``, which one task per event
loop listens to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import weakref
from dataclasses import dataclass, field

import redis
import redis.asyncio as aioredis
from django.apps import apps

from providers.budgets.table import MAX_AGE_SECONDS as COST_TABLE_MAX_AGE
from providers.budgets.table import CostTable, cost_table_load
from providers.events import CHANNEL, decode
from providers.http import ProviderClient, build_async_client
from providers.keys import KEY_PREFIX, Caller, caller_for_key_hash, key_hash
from providers.ledger import LedgerWriter
from providers.redis_clients import async_redis, sync_redis
from providers.reloading import Reloading
from providers.snapshot import MAX_AGE_SECONDS as SNAPSHOT_MAX_AGE
from providers.snapshot import Snapshot, snapshot_load

logger = logging.getLogger(__name__)
KEY_CACHE_SECONDS = 30.0
COOLDOWN_KEY = "gateway:cooldown:{}"
FAILS_KEY = "gateway:fails:{}"
# Every cooldown start, "<deployment id>:<epoch seconds>" scored by its time; kept a week.
COOLDOWN_LOG_KEY = "gateway:cooldown-log"
COOLDOWN_LOG_SECONDS = 8 * 86400
LATENCY_ALPHA = 0.3


@dataclass
class RoutingStats:
    """What the routing strategies look at, per deployment, for this process."""

    inflight: dict[int, int] = field(default_factory=dict)
    latency_ewma: dict[int, float] = field(default_factory=dict)
    minute: int = 0
    tokens_this_minute: dict[int, int] = field(default_factory=dict)
    requests_this_minute: dict[int, int] = field(default_factory=dict)

    def _roll(self) -> None:
        now_minute = int(time.time() // 60)
        if now_minute != self.minute:
            self.minute = now_minute
            self.tokens_this_minute.clear()
            self.requests_this_minute.clear()

    def started(self, deployment_id: int) -> None:
        self._roll()
        self.inflight[deployment_id] = self.inflight.get(deployment_id, 0) + 1
        self.requests_this_minute[deployment_id] = (
            self.requests_this_minute.get(deployment_id, 0) + 1
        )

    def finished(self, deployment_id: int, *, seconds: float, tokens: int, ok: bool) -> None:
        self._roll()
        self.inflight[deployment_id] = max(0, self.inflight.get(deployment_id, 1) - 1)
        self.tokens_this_minute[deployment_id] = (
            self.tokens_this_minute.get(deployment_id, 0) + tokens
        )
        if ok:
            previous = self.latency_ewma.get(deployment_id)
            self.latency_ewma[deployment_id] = (
                seconds if previous is None else previous + LATENCY_ALPHA * (seconds - previous)
            )

    def usage(self, deployment_id: int) -> tuple[int, int]:
        self._roll()
        return (
            self.requests_this_minute.get(deployment_id, 0),
            self.tokens_this_minute.get(deployment_id, 0),
        )


class GatewayRuntime:
    def __init__(self) -> None:
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ProviderClient] = (
            weakref.WeakKeyDictionary()
        )
        self._listeners: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Task[None]
        ] = weakref.WeakKeyDictionary()
        self._redis: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )
        self.config = Reloading("configuration", self._snapshot_load, max_age=SNAPSHOT_MAX_AGE)
        self.costs = Reloading("budgets", cost_table_load, max_age=COST_TABLE_MAX_AGE)
        # key hash → (its caller, None for no valid key,)
        self._keys: dict[str, Reloading[tuple[Caller | None]]] = {}
        self.cooldowns: dict[int, float] = {}  # deployment id → monotonic time it ends
        self.stats = RoutingStats()
        # Spreads load over deployments (not security); one, as seeding costs 15 µs a call.
        self.rng = random.Random()  # noqa: S311
        self.ledger = LedgerWriter()

    # --- HTTP -------------------------------------------------------------------
    def client(self) -> ProviderClient:
        """The pooled client of the running event loop (connection pools are loop-bound)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = build_async_client()
            self._clients[loop] = client
        return client

    def redis(self) -> aioredis.Redis:
        """The Redis client of the running event loop (budgets, rate limits)."""
        loop = asyncio.get_running_loop()
        client = self._redis.get(loop)
        if client is None:
            client = async_redis(socket_timeout=2, socket_connect_timeout=2)
            self._redis[loop] = client
        return client

    # --- budgets and rate limits ----------------------------------------------------
    async def cost_table(self) -> CostTable:
        return self.costs.fresh() or await self.costs.aget()

    def forget_costs(self) -> None:
        self.costs.invalidate()

    # --- configuration ------------------------------------------------------------
    def _snapshot_load(self) -> Snapshot:
        snapshot = snapshot_load()
        self._load_cooldowns(snapshot)
        return snapshot

    def snapshot_sync(self) -> Snapshot:
        return self.config.get()

    async def snapshot(self) -> Snapshot:
        return self.config.fresh() or await self.config.aget()

    def forget_config(self) -> None:
        self.config.invalidate()

    # --- virtual keys ---------------------------------------------------------------
    def _key_entry(self, plaintext: str) -> Reloading[tuple[Caller | None]]:
        digest = key_hash(plaintext)
        entry = self._keys.get(digest)
        if entry is None:
            if len(self._keys) > 10_000:
                self._keys.clear()
            entry = Reloading(
                "virtual key",
                lambda: (caller_for_key_hash(digest),),
                max_age=KEY_CACHE_SECONDS,
            )
            self._keys[digest] = entry
        return entry

    def caller_sync(self, plaintext: str) -> Caller | None:
        if not plaintext.startswith(KEY_PREFIX):
            return None
        return _unexpired(self._key_entry(plaintext).get()[0])

    async def caller(self, plaintext: str) -> Caller | None:
        if not plaintext.startswith(KEY_PREFIX):
            return None
        entry = self._key_entry(plaintext)
        found = entry.fresh() or await entry.aget()
        return _unexpired(found[0])

    def forget_keys(self) -> None:
        self._keys = {}

    # --- cooldowns ---------------------------------------------------------------------
    def cooling(self, deployment_id: int) -> bool:
        until = self.cooldowns.get(deployment_id)
        if until is None:
            return False
        if until <= time.monotonic():
            del self.cooldowns[deployment_id]
            return False
        return True

    def start_cooldown_locally(self, deployment_id: int, seconds: float) -> None:
        self.cooldowns[deployment_id] = time.monotonic() + seconds

    def _load_cooldowns(self, snapshot: Snapshot) -> None:
        """Cooldowns started by other processes before this one listened."""
        ids = [e.deployment_id for entries in snapshot.groups.values() for e in entries]
        if not ids:
            return
        client = sync_redis(socket_timeout=2)
        try:
            with client.pipeline(transaction=False) as pipe:
                for deployment_id in ids:
                    pipe.pttl(COOLDOWN_KEY.format(deployment_id))
                ttls = pipe.execute()
        except redis.RedisError:
            logger.warning("could not read cooldowns from Redis")
            return
        finally:
            client.close()
        for deployment_id, ttl in zip(ids, ttls, strict=True):
            if isinstance(ttl, int) and ttl > 0:
                self.start_cooldown_locally(deployment_id, ttl / 1000)

    # --- events from other processes -------------------------------------------------------
    def listen_here(self) -> None:
        """Follow other processes' changes from the running loop. Called by long-lived
        servers (the API app, websocket consumers), never from a short-lived loop."""
        self._ensure_listener(asyncio.get_running_loop())

    def _ensure_listener(self, loop: asyncio.AbstractEventLoop) -> None:
        task = self._listeners.get(loop)
        if task is None or task.done():
            self._listeners[loop] = loop.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            client = async_redis()
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    # Anything may have changed while we were not listening.
                    self.forget_keys()
                    self.forget_config()
                    self.forget_costs()
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self._apply(decode(message.get("data")))
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError):
                logger.warning("gateway event listener lost Redis; retrying")
                self.forget_keys()
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    def _apply(self, event: dict[str, object] | None) -> None:
        if event is None:
            return
        kind = event.get("type")
        if kind == "keys.changed":
            self.forget_keys()
        elif kind == "config.changed":
            self.forget_config()
        elif kind == "budgets.changed":
            self.forget_costs()
        elif kind == "pii.changed":
            from providers.pii.policy import policy_cache

            policy_cache().invalidate()
        elif kind == "vault.changed":
            from providers.vault.index import get_credential_index

            get_credential_index().invalidate()
        elif kind == "cooldown.started":
            deployment_id, until = event.get("deployment_id"), event.get("until")
            if isinstance(deployment_id, int) and isinstance(until, int | float):
                self.start_cooldown_locally(deployment_id, max(0.0, until - time.time()))


def _unexpired(caller: Caller | None) -> Caller | None:
    """A cached caller whose key has expired since it was read is no caller."""
    if caller is not None and caller.expires_at is not None and caller.expires_at <= time.time():
        return None
    return caller


def get_runtime() -> GatewayRuntime:
    config = apps.get_app_config("providers")
    runtime: GatewayRuntime = config.runtime  # type: ignore[attr-defined]
    return runtime
