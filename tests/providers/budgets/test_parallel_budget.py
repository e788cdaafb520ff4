"""A hard department budget under parallel load, through the /v1 API on daphne."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from django.db.models import Sum

from chatapp.devstack.processes import ManagedProcess
from providers.budgets.models import Budget, BudgetAlert, Notice
from providers.budgets.services import budget_create
from providers.keys import virtual_key_create
from providers.models import Deployment, UsageRecord
from tests.aio import run
from tests.personas import Personas

pytestmark = pytest.mark.django_db(transaction=True)
DeploymentFactory = Callable[..., Deployment]
# Five output tokens at $0.001 each: every request costs exactly $0.005.
LONG_QUESTION = "하나 둘 셋 넷 다섯 여섯 일곱 여덟 아홉 열"
PER_REQUEST = Decimal("0.005")


def body(*, stream: bool) -> dict[str, object]:
    return {
        "model": "metered",
        "messages": [{"role": "user", "content": LONG_QUESTION}],
        "max_tokens": 5,
        "stream": stream,
        **({"stream_options": {"include_usage": True}} if stream else {}),
    }


async def fire(base_url: str, key: str, count: int) -> list[tuple[int, str]]:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=count)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:

        async def one(index: int) -> tuple[int, str]:
            response = await client.post(
                "/v1/chat/completions", json=body(stream=index % 2 == 0), headers=headers
            )
            return response.status_code, response.text

        return await asyncio.gather(*(one(i) for i in range(count)))


def wait_until(condition: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_fifty_parallel_requests_at_a_budget_for_ten_let_exactly_ten_through(
    live_daphne: str,
    personas: Personas,
    deployment_factory: DeploymentFactory,
    celery_worker_process: ManagedProcess,
) -> None:
    # given a department budget (ENG, rolling up ENG-PLAT) that fits ten requests
    deployment_factory(
        "metered", input_cost_per_token=Decimal(0), output_cost_per_token=Decimal("0.001")
    )
    budget = budget_create(
        organization=personas.org,
        scope="department",
        department=personas.eng,
        period=Budget.Period.MONTH,
        limit_usd=PER_REQUEST * 10,
        actor=personas.platform_admin,
    )
    key = virtual_key_create(user=personas.member, name="load").plaintext
    # when fifty requests, half of them streamed, arrive at once
    results = run(fire(live_daphne, key, 50))
    # then exactly ten pass and the others get OpenAI's quota error
    statuses = [status for status, _ in results]
    assert statuses.count(200) == 10, statuses
    assert statuses.count(429) == 40
    refused = next(text for status, text in results if status == 429)
    assert '"type":"insufficient_quota"' in refused
    assert "budget_exceeded" in refused

    # and the ledger (the record) holds exactly the budget
    def spent() -> Decimal:
        total = UsageRecord.objects.filter(department=personas.eng_plat).aggregate(
            total=Sum("cost_usd")
        )["total"]
        return total or Decimal(0)

    wait_until(lambda: spent() == budget.limit_usd)
    # and the department admin and finance hear of 50 %, 80 % and 100 %, once each
    wait_until(lambda: BudgetAlert.objects.filter(budget=budget).count() == 3)
    alerts = {a.threshold: a for a in BudgetAlert.objects.filter(budget=budget)}
    assert set(alerts) == {50, 80, 100}
    assert {personas.dept_admin.email, personas.finance.email} <= set(alerts[100].emailed_to)
    assert personas.outsider.email not in alerts[100].emailed_to
    assert Notice.objects.filter(recipient=personas.dept_admin, alert=alerts[100]).exists()
    # and the eleventh request, later, is still refused
    [(status, _text)] = run(fire(live_daphne, key, 1))
    assert status == 429
