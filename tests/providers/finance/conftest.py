"""A small ledger over March 2025 for the finance tests, with its exchange rates.

Rates (USD): from 2025-03-03 ₩1,450.25, from 2025-03-15 ₩1,462.80; nothing covers
2025-03-01 and 03-02. Times are Asia/Seoul; one row at 2025-03-01 00:30 KST (still
February in UTC) and one at 2025-04-01 08:00 KST (still March in UTC) test the day
boundaries.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from orgs.models import Department, User
from providers.finance.models import ExchangeRate
from providers.models import UsageRecord
from tests.personas import Personas

SEOUL = ZoneInfo("Asia/Seoul")
MARCH = {"period": "custom", "date_from": "2025-03-01", "date_to": "2025-03-31"}
_ids = itertools.count(1)


def seoul(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=SEOUL)


def usage(
    *,
    at: datetime,
    user: User | None,
    department: Department | None,
    cost: str,
    model: str = "gpt-4o",
    provider: str = "openai",
    prompt: int = 100,
    completion: int = 50,
    request_id: str | None = None,
    attempt: int = 1,
    is_final: bool = True,
    status: str = "ok",
) -> UsageRecord:
    return UsageRecord(
        request_id=request_id or f"req-{next(_ids)}",
        attempt=attempt,
        is_final=is_final,
        created_at=at,
        user=user,
        department=department,
        model_group=model,
        provider=provider,
        upstream_model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=Decimal(cost),
        status=status,
    )


@dataclass(frozen=True)
class Ledger:
    personas: Personas
    rows: list[UsageRecord]


@pytest.fixture
def rates(personas: Personas) -> list[ExchangeRate]:
    return [
        ExchangeRate.objects.create(
            currency="USD", valid_from=date(2025, 3, 3), krw_per_unit=Decimal("1450.25")
        ),
        ExchangeRate.objects.create(
            currency="USD", valid_from=date(2025, 3, 15), krw_per_unit=Decimal("1462.80")
        ),
        # Another currency must never convert USD costs.
        ExchangeRate.objects.create(
            currency="EUR", valid_from=date(2025, 1, 1), krw_per_unit=Decimal("1580")
        ),
    ]


@pytest.fixture
def ledger(personas: Personas, rates: list[ExchangeRate]) -> Ledger:
    p = personas
    rows = [
        # 03-01 and 03-02: before any USD rate.
        usage(at=seoul(2025, 3, 1, 0, 30), user=p.member, department=p.eng_plat, cost="0.4125"),
        usage(at=seoul(2025, 3, 2, 14, 0), user=p.dept_admin, department=p.eng, cost="1.0005"),
        # A request with a failed attempt that still cost something, then a fallback.
        usage(
            at=seoul(2025, 3, 3, 9, 0),
            user=p.member,
            department=p.eng_plat,
            cost="0.0100000001",
            request_id="req-retry",
            attempt=1,
            is_final=False,
            status="error",
            provider="azure",
        ),
        usage(
            at=seoul(2025, 3, 3, 9, 0, 2),
            user=p.member,
            department=p.eng_plat,
            cost="0.2333333333",
            request_id="req-retry",
            attempt=2,
            model="claude-sonnet",
            provider="anthropic",
            prompt=1200,
            completion=800,
        ),
        usage(at=seoul(2025, 3, 14, 23, 59), user=p.member, department=p.eng_plat, cost="2.5"),
        usage(
            at=seoul(2025, 3, 15, 0, 1),
            user=p.dept_admin,
            department=p.eng,
            cost="3.3333333333",
            model="claude-sonnet",
            provider="anthropic",
        ),
        usage(at=seoul(2025, 3, 20, 11, 0), user=p.outsider, department=p.hr, cost="7.77"),
        usage(at=seoul(2025, 3, 21, 11, 0), user=p.finance, department=p.fin, cost="0.5"),
        usage(at=seoul(2025, 3, 22, 8, 0), user=None, department=None, cost="0.25"),
        usage(
            at=seoul(2025, 3, 31, 23, 0),
            user=p.member,
            department=p.eng_plat,
            cost="1.2345678901",
            model="qwen3-8b",
            provider="hosted_vllm",
        ),
        # April in Seoul (still March 31st in UTC): outside March.
        usage(at=seoul(2025, 4, 1, 8, 0), user=p.member, department=p.eng_plat, cost="9.99"),
    ]
    return Ledger(personas, UsageRecord.objects.bulk_create(rows))


def in_departments(*departments: Department) -> Callable[[UsageRecord], bool]:
    ids = {department.pk for department in departments}
    return lambda row: row.department_id in ids


def expected_krw(
    rows: list[UsageRecord], keep: Callable[[UsageRecord], bool], first: date, last: date
) -> dict[str, Any]:
    """The reference computation, written independently of the code under test: every
    row's cost at the USD rate of its Seoul day, summed exactly, rounded half up once."""
    usd_rates = sorted(
        (rate.valid_from, rate.krw_per_unit) for rate in ExchangeRate.objects.filter(currency="USD")
    )
    krw = Decimal(0)
    usd = Decimal(0)
    unconverted = Decimal(0)
    requests = 0
    for row in rows:
        day = row.created_at.astimezone(SEOUL).date()
        if not (first <= day <= last) or not keep(row):
            continue
        usd += row.cost_usd
        requests += row.is_final
        applicable = [value for start, value in usd_rates if start <= day]
        if applicable:
            krw += row.cost_usd * applicable[-1]
        else:
            unconverted += row.cost_usd
    return {
        "krw": int(krw.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
        "usd": usd,
        "unconverted": unconverted,
        "requests": requests,
    }
