from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings

from providers.models import Deployment, UsageRecord
from providers.runtime import COOLDOWN_KEY, FAILS_KEY, get_runtime

SEOUL = ZoneInfo("Asia/Seoul")
# A fixed "now" for selector tests: 15:10 in Seoul, so the 24 h window's buckets are known.
NOW = datetime(2025, 5, 20, 15, 10, tzinfo=SEOUL)

Attempt = dict[str, Any]
Seed = Callable[..., list[UsageRecord]]


def attempt_row(deployment: Deployment | None, **fields: Any) -> Attempt:
    """One ledger row's fields; ``deployment`` fills the group, provider and model."""
    row: Attempt = {
        "attempt": 1,
        "is_final": True,
        "created_at": NOW - timedelta(minutes=30),
        "status": "ok",
        "latency_ms": 100.0,
        "ttft_ms": None,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": Decimal(0),
        "source": "api",
    }
    if deployment is not None:
        row.update(
            deployment_id=deployment.pk,
            model_group=deployment.model_name,
            provider=deployment.provider,
            upstream_model=deployment.upstream_model,
        )
    row.update(fields)
    return row


@pytest.fixture
def seed(db: None) -> Seed:
    """``seed(attempt, attempt, ...)``: store one client request of these attempts (in
    order: numbered 1..n, only the last final unless every attempt failed).

    The figures are compared with the rows the test stores: rows an earlier test left in
    the ledger writer's buffer are written first and hidden (the test's transaction rolls
    the deletion back)."""
    get_runtime().ledger.flush_sync()
    UsageRecord.objects.all().delete()

    def store(*attempts: Attempt, request_id: str | None = None) -> list[UsageRecord]:
        request_id = request_id or uuid.uuid4().hex
        rows = []
        for number, fields in enumerate(attempts, start=1):
            last = number == len(attempts)
            fields = {
                **fields,
                "attempt": number,
                "is_final": fields.get("is_final", last and fields.get("status") != "error"),
            }
            rows.append(UsageRecord(request_id=request_id, **fields))
        return UsageRecord.objects.bulk_create(rows)

    return store


@pytest.fixture
def deployments(db: None) -> dict[str, Deployment]:
    def make(model_name: str, provider: str, upstream: str, **fields: Any) -> Deployment:
        return Deployment.objects.create(
            model_name=model_name,
            provider=provider,
            upstream_model=upstream,
            api_base="http://127.0.0.1:9/v1",
            **fields,
        )

    return {
        "fast_a": make("gpt-fast", "openai", "gpt-4o-mini"),
        "fast_b": make("gpt-fast", "azure", "gpt-4o-mini-eu"),
        "claude": make("claude", "anthropic", "claude-sonnet"),
        "idle": make("idle-model", "openai", "idle"),
        "off": make("retired", "openai", "retired", is_enabled=False),
    }


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    for pattern in (COOLDOWN_KEY.format("*"), FAILS_KEY.format("*")):
        for key in client.scan_iter(pattern):
            client.delete(key)
    get_runtime().cooldowns.clear()
    client.close()
