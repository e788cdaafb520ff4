"""Which deployment serves a request, and what happens when one fails.

- Plan: the requested model group, then its fallbacks; when the prompt does not
  fit the group's context window (counted before the call), its
  context-window fallbacks instead, or a clear error if nothing fits.
- Order within a group by the configured strategy: simple-shuffle (weighted),
  least-busy, latency-based or usage-based; deployments in cooldown are skipped
  unless the group has only one.
- Retries: retryable failures only (connect errors, timeouts, 429 with its
  Retry-After, 5xx), with backoff, all inside the request's overall deadline.
- Cooldown: after ``allowed_fails`` retryable failures within a minute a
  deployment rests ``cooldown_seconds``; decided through Redis and announced
  to every process.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis

from providers.errors import ContextWindowExceeded, GatewayError, ModelNotFound, ProviderError
from providers.events import publish_now
from providers.redis_clients import sync_redis
from providers.runtime import COOLDOWN_KEY, COOLDOWN_LOG_KEY, COOLDOWN_LOG_SECONDS, FAILS_KEY
from providers.tokens import fits

if TYPE_CHECKING:
    from providers.runtime import GatewayRuntime, RoutingStats
    from providers.snapshot import DeploymentEntry, RouterPolicy, Snapshot
    from providers.types import ChatRequest

logger = logging.getLogger(__name__)
BASE_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 8.0
FAIL_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Plan:
    groups: tuple[str, ...]
    policy: RouterPolicy
    deadline: float  # time.monotonic() by which everything must be over


def plan_request(
    snapshot: Snapshot, request: ChatRequest | None, *, model: str, timeout: float | None = None
) -> Plan:
    """The model groups to try, in order. ``request`` None: embeddings (no window check)."""
    if model not in snapshot.groups:
        raise ModelNotFound(f"The model '{model}' does not exist or is not enabled")
    chain = [model, *snapshot.fallbacks.get(model, ())]
    groups = [g for g in chain if g in snapshot.groups]
    if request is not None:
        fitting = [g for g in groups if _group_fits(snapshot, g, request)]
        if model not in fitting:
            fitting = [
                g
                for g in snapshot.context_fallbacks.get(model, ())
                if g in snapshot.groups and _group_fits(snapshot, g, request)
            ]
        if not fitting:
            raise ContextWindowExceeded(
                f"The conversation is longer than the context window of '{model}'"
                " and of every model configured to take over"
            )
        groups = fitting
    policy = snapshot.policy
    seconds = min(timeout, policy.timeout_seconds) if timeout else policy.timeout_seconds
    return Plan(groups=tuple(groups), policy=policy, deadline=time.monotonic() + seconds)


def _group_fits(snapshot: Snapshot, group: str, request: ChatRequest) -> bool:
    entry = snapshot.groups[group][0]
    return fits(request, provider=entry.provider, max_input_tokens=entry.max_input_tokens)


def order_deployments(
    entries: tuple[DeploymentEntry, ...],
    *,
    strategy: str,
    runtime: GatewayRuntime,
    rng: random.Random | None = None,
) -> list[DeploymentEntry]:
    rng = rng or runtime.rng
    usable = [e for e in entries if e.target is not None]
    if len(usable) > 1:
        resting = [e for e in usable if runtime.cooling(e.deployment_id)]
        awake = [e for e in usable if e not in resting]
        usable = awake or usable  # all resting: try them anyway rather than fail outright
    stats = runtime.stats
    if strategy == "least-busy":
        return sorted(usable, key=lambda e: (stats.inflight.get(e.deployment_id, 0), rng.random()))
    if strategy == "latency-based-routing":
        return sorted(
            usable, key=lambda e: (stats.latency_ewma.get(e.deployment_id, 0.0), rng.random())
        )
    if strategy in ("usage-based-routing", "usage-based-routing-v2"):
        return _by_usage(usable, stats, rng)
    # simple-shuffle: a weighted random order (Efraimidis-Spirakis keys).
    return sorted(usable, key=lambda e: -(rng.random() ** (1.0 / e.weight)))


def _by_usage(
    entries: list[DeploymentEntry], stats: RoutingStats, rng: random.Random
) -> list[DeploymentEntry]:
    def load(entry: DeploymentEntry) -> tuple[int, float, float]:
        requests, tokens = stats.usage(entry.deployment_id)
        over = int(
            (entry.rpm is not None and requests >= entry.rpm)
            or (entry.tpm is not None and tokens >= entry.tpm)
        )
        share = tokens / entry.tpm if entry.tpm else float(tokens)
        return (over, share, rng.random())

    return sorted(entries, key=load)


def backoff_seconds(attempt: int, error: ProviderError, rng: random.Random | None = None) -> float:
    if error.retry_after is not None:
        return min(error.retry_after, MAX_BACKOFF_SECONDS)
    jitter: float = (rng or random).uniform(0.8, 1.2)
    return float(min(BASE_BACKOFF_SECONDS * (2**attempt) * jitter, MAX_BACKOFF_SECONDS))


def counts_toward_cooldown(error: GatewayError) -> bool:
    return isinstance(error, ProviderError) and error.retryable


def note_failure(
    runtime: GatewayRuntime, entry: DeploymentEntry, policy: RouterPolicy, *, group_size: int
) -> bool:
    """Count a retryable failure; start a shared cooldown when there were too many.
    Returns True when a cooldown started. Never for a group's only deployment."""
    if group_size <= 1:
        return False
    client = sync_redis(socket_timeout=1, socket_connect_timeout=1)
    try:
        key = FAILS_KEY.format(entry.deployment_id)
        with client.pipeline() as pipe:
            # SET NX starts the window (EXPIRE NX needs Redis 7; the shipped server is 6.2).
            pipe.set(key, 0, ex=FAIL_WINDOW_SECONDS, nx=True)
            pipe.incr(key)
            fails = int(pipe.execute()[1])
        if fails < policy.allowed_fails:
            return False
        started = client.set(
            COOLDOWN_KEY.format(entry.deployment_id), "1", ex=policy.cooldown_seconds, nx=True
        )
        client.delete(key)
        if started:
            now = time.time()
            with client.pipeline() as pipe:
                pipe.zadd(COOLDOWN_LOG_KEY, {f"{entry.deployment_id}:{now:.3f}": now})
                pipe.zremrangebyscore(COOLDOWN_LOG_KEY, "-inf", now - COOLDOWN_LOG_SECONDS)
                pipe.execute()
    except redis.RedisError:
        logger.warning("could not count a failure of deployment %s in Redis", entry.deployment_id)
        return False
    finally:
        client.close()
    runtime.start_cooldown_locally(entry.deployment_id, policy.cooldown_seconds)
    if started:
        publish_now(
            {
                "type": "cooldown.started",
                "deployment_id": entry.deployment_id,
                "until": time.time() + policy.cooldown_seconds,
            }
        )
    return True
