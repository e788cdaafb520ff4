from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from providers import gateway
from providers.models import Deployment, PriceEntry, UsageRecord
from providers.runtime import get_runtime
from providers.types import ChatMessage, ChatRequest


@pytest.mark.django_db
def test_the_shipped_catalog_loads_and_reloads() -> None:
    call_command("load_price_catalog")
    count = PriceEntry.objects.count()
    assert count > 5
    assert PriceEntry.objects.get(model="gpt-4o").output_cost_per_token == Decimal("0.00001")
    call_command("load_price_catalog")
    assert PriceEntry.objects.count() == count


@pytest.mark.django_db
def test_a_malformed_catalog_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text('{"prices": {"m": {"input": "cheap", "output": 1}}}', encoding="utf-8")
    with pytest.raises(CommandError, match=r"prices.m.input: must be a number"):
        call_command("load_price_catalog", str(bad))
    assert not PriceEntry.objects.exists()


def test_catalog_prices_cost_calls_of_unpriced_deployments(
    deployment_factory: Callable[..., Deployment],
) -> None:
    # given a deployment without prices of its own, and a catalog entry for its model
    PriceEntry.objects.create(
        model="gpt-fake",
        input_cost_per_token=Decimal("0.00001"),
        output_cost_per_token=Decimal("0.00003"),
    )
    deployment = deployment_factory()
    # when
    gateway.chat(ChatRequest(model="fake-chat", messages=[ChatMessage(role="user", content="a b")]))
    get_runtime().ledger.flush_sync()
    # then 2 prompt and 3 completion tokens are priced from the catalog
    row = UsageRecord.objects.get(deployment_id=deployment.pk)
    assert row.cost_usd == Decimal("0.00011")
