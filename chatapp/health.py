"""Liveness of the parts the platform cannot work without."""

from __future__ import annotations

from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection
from django.db.utils import Error as DatabaseError


@dataclass(frozen=True)
class HealthReport:
    checks: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(state == "ok" for state in self.checks.values())


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
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return "unavailable"
    finally:
        client.close()
    return "ok"


def health_report() -> HealthReport:
    return HealthReport(checks={"database": check_database(), "redis": check_redis()})
