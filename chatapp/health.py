"""Liveness of the parts the platform cannot work without."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.utils import Error as DatabaseError

from providers.redis_clients import sync_redis

WORKER_HEARTBEAT_KEY = "health:worker-heartbeat"
WORKER_STALE_AFTER_SECONDS = 120


@dataclass(frozen=True)
class HealthReport:
    """``checks`` decide the status; ``info`` (the Celery worker) is reported, not required."""

    checks: dict[str, str]
    info: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(state == "ok" for state in self.checks.values())


def worker_heartbeat_record() -> float:
    now = time.time()
    cache.set(WORKER_HEARTBEAT_KEY, now, timeout=WORKER_STALE_AFTER_SECONDS * 10)
    return now


def check_worker() -> str:
    """'ok' when a worker ran the heartbeat task recently; 'stale' or 'unknown' otherwise."""
    try:
        last = cache.get(WORKER_HEARTBEAT_KEY)
    except (redis.RedisError, OSError):
        return "unknown"
    if last is None:
        return "unknown"
    return "ok" if time.time() - float(last) < WORKER_STALE_AFTER_SECONDS else "stale"


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        connection.close()
        return "unavailable"
    return "ok"


def check_redis() -> str:
    timeout = settings.HEALTHCHECK_TIMEOUT
    client = sync_redis(socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return "unavailable"
    finally:
        client.close()
    return "ok"


def health_report() -> HealthReport:
    checks = {"database": check_database(), "redis": check_redis()}
    info = {"worker": check_worker() if checks["redis"] == "ok" else "unknown"}
    return HealthReport(checks=checks, info=info)
