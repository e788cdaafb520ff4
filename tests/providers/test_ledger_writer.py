"""The usage ledger's writer (providers.ledger): rows go to the database in one COPY,
every value as recorded; a failed write keeps the rows for the next flush."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from providers.ledger import LedgerWriter, rows_write
from providers.models import Deployment, UsageRecord
from tests.personas import Personas

pytestmark = pytest.mark.django_db


def usage_row(personas: Personas, deployment: Deployment, **fields: Any) -> dict[str, Any]:
    member = personas.member
    row: dict[str, Any] = {
        "request_id": uuid.uuid4().hex,
        "attempt": 2,
        "is_final": False,
        "created_at": datetime(2026, 11, 28, 9, 30, 15, 123456, tzinfo=UTC),
        "virtual_key_id": None,
        "user_id": member.pk,
        "department_id": personas.eng_plat.pk,
        "source": "chat",
        "operation": "chat",
        "model_group": "사내-모델",
        "deployment_id": deployment.pk,
        "provider": "openai",
        "upstream_model": "gpt-4o-mini",
        "streamed": True,
        "prompt_tokens": 1200,
        "completion_tokens": 345,
        "cached_tokens": 1000,
        "cost_usd": Decimal("0.0012345678"),
        "ttft_ms": 12.5,
        "latency_ms": 830.25,
        "tokens_per_second": None,
        "status": "error",
        "error_class": "ProviderError",
        "http_status": 502,
        "own_key_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    }
    row.update(fields)
    return row


def test_every_value_is_stored_as_recorded(
    personas: Personas, deployment_factory: Callable[..., Deployment]
) -> None:
    deployment = deployment_factory("ledger-copy")
    full = usage_row(personas, deployment)
    sparse = {
        key: full[key]
        for key in ("request_id", "created_at", "model_group", "deployment_id", "status")
    }
    sparse["request_id"] = "sparse"
    rows_write([full, sparse])

    stored = UsageRecord.objects.get(request_id=full["request_id"])
    for name, value in full.items():
        assert getattr(stored, name) == value, name
    defaults = UsageRecord.objects.get(request_id="sparse")
    assert (defaults.attempt, defaults.is_final, defaults.source, defaults.cost_usd) == (
        1,
        True,
        "api",
        Decimal(0),
    )
    assert defaults.ttft_ms is None and defaults.user_id is None


def test_a_row_with_a_field_the_ledger_does_not_have_is_refused(
    personas: Personas, deployment_factory: Callable[..., Deployment]
) -> None:
    deployment = deployment_factory("ledger-typo")
    with pytest.raises(ValueError, match="latency"):
        rows_write([usage_row(personas, deployment, latency=1.0)])
    assert not UsageRecord.objects.filter(deployment_id=deployment.pk).exists()


@pytest.mark.django_db(transaction=True)  # the writer thread's autocommit, not a test's transaction
def test_a_failed_write_keeps_the_rows_for_the_next_flush(
    personas: Personas, deployment_factory: Callable[..., Deployment]
) -> None:
    deployment = deployment_factory("ledger-retry")
    writer = LedgerWriter()
    good = usage_row(personas, deployment)
    writer._pending = [good, usage_row(personas, deployment, status="x" * 40)]  # too long

    assert writer.flush_sync() == -1
    assert writer.pending == 2
    assert not UsageRecord.objects.filter(deployment_id=deployment.pk).exists()

    writer._pending = [good]
    assert writer.flush_sync() == 1
    assert UsageRecord.objects.filter(deployment_id=deployment.pk).count() == 1
