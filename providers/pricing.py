"""The pricing catalog: load a JSON file of USD-per-token prices into PriceEntry rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from providers.errors import ConfigError
from providers.models import PriceEntry


@dataclass(frozen=True)
class CatalogResult:
    created: int
    updated: int


def _price(value: Any, where: str) -> Decimal:
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}: must be a number") from None
    if price < 0:
        raise ConfigError(f"{where}: must not be negative")
    return price


@transaction.atomic
def price_catalog_load(text: str) -> CatalogResult:
    """Upsert every model of ``{"prices": {model: {input, output, cache_read?}}}``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"Not valid JSON (line {exc.lineno}): {exc.msg}") from None
    prices = data.get("prices") if isinstance(data, dict) else None
    if not isinstance(prices, dict) or not prices:
        raise ConfigError('Expected {"prices": {"<model>": {"input": ..., "output": ...}}}')
    created = updated = 0
    for model, entry in prices.items():
        where = f"prices.{model}"
        if not isinstance(entry, dict) or "input" not in entry or "output" not in entry:
            raise ConfigError(f"{where}: needs input and output prices")
        cache_read = entry.get("cache_read")
        _, was_created = PriceEntry.objects.update_or_create(
            model=model,
            defaults={
                "input_cost_per_token": _price(entry["input"], f"{where}.input"),
                "output_cost_per_token": _price(entry["output"], f"{where}.output"),
                "cache_read_cost_per_token": (
                    _price(cache_read, f"{where}.cache_read") if cache_read is not None else None
                ),
            },
        )
        created += was_created
        updated += not was_created
    return CatalogResult(created=created, updated=updated)
