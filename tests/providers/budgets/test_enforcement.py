"""Budgets and rate limits in the gateway, called directly (one process)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from django.utils import timezone

from chatapp.devstack.processes import free_port
from providers import gateway
from providers.budgets.enforce import BudgetExceeded, BudgetUnavailable
from providers.budgets.guard import chat_estimate
from providers.budgets.models import Budget
from providers.budgets.ratelimit import RateLimited, RateLimitUnavailable
from providers.budgets.services import budget_create, rate_limit_set
from providers.errors import GatewayError
from providers.keys import Caller, caller_for_key, caller_for_user, virtual_key_create
from providers.models import Deployment, UsageRecord
from providers.runtime import get_runtime
from providers.types import ChatMessage, ChatRequest
from tests.fake_upstream import FakeUpstream, Fault
from tests.personas import Personas

DeploymentFactory = Callable[..., Deployment]
QUESTION = "하나 둘 셋 넷 다섯 여섯 일곱 여덟 아홉 열"  # answers are cut at max_tokens=5
PER_CALL = Decimal("0.005")


def ask(model: str = "metered") -> ChatRequest:
    return ChatRequest(
        model=model, messages=[ChatMessage(role="user", content=QUESTION)], max_tokens=5
    )


@pytest.fixture
def metered(deployment_factory: DeploymentFactory) -> Deployment:
    return deployment_factory(
        "metered", input_cost_per_token=Decimal(0), output_cost_per_token=Decimal("0.001")
    )


def calls_until_refused(caller: Caller, limit: int = 20) -> tuple[int, GatewayError]:
    for done in range(limit):
        try:
            gateway.chat(ask(), caller)
        except (BudgetExceeded, RateLimited) as exc:
            return done, exc
    raise AssertionError("never refused")


def department_budget(personas: Personas, limit: Decimal, **fields: object) -> Budget:
    return budget_create(
        organization=personas.org,
        scope="department",
        department=fields.pop("department", personas.eng),  # type: ignore[arg-type]
        period=fields.pop("period", Budget.Period.MONTH),  # type: ignore[arg-type]
        limit_usd=limit,
        actor=personas.platform_admin,
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.django_db
def test_a_parent_department_budget_counts_its_subtree(
    personas: Personas, metered: Deployment
) -> None:
    department_budget(personas, PER_CALL * 3)
    done, error = calls_until_refused(caller_for_user(personas.member, source="chat"))
    assert done == 3
    assert error.status == 429
    assert "monthly" in error.message and "your department" in error.message
    # another department is not affected
    gateway.chat(ask(), caller_for_user(personas.outsider, source="chat"))


@pytest.mark.django_db
def test_every_applicable_budget_must_have_room_the_strictest_decides(
    personas: Personas, metered: Deployment
) -> None:
    department_budget(personas, Decimal(100))
    budget_create(
        organization=personas.org,
        scope="user",
        user=personas.member,
        period=Budget.Period.DAY,
        limit_usd=PER_CALL * 2,
        actor=personas.platform_admin,
    )
    done, error = calls_until_refused(caller_for_user(personas.member, source="chat"))
    assert done == 2
    assert "daily" in error.message and "personal" in error.message


@pytest.mark.django_db
def test_a_soft_budget_warns_but_never_refuses(personas: Personas, metered: Deployment) -> None:
    department_budget(personas, PER_CALL, enforcement=Budget.Enforcement.SOFT)
    caller = caller_for_user(personas.member, source="chat")
    for _ in range(3):
        gateway.chat(ask(), caller)


@pytest.mark.django_db
def test_a_keys_own_budget_is_a_hard_total(personas: Personas, metered: Deployment) -> None:
    issued = virtual_key_create(user=personas.member, budget_usd=PER_CALL * 2)
    caller = caller_for_key(issued.plaintext)
    assert caller is not None
    done, error = calls_until_refused(caller)
    assert done == 2
    assert "API key" in error.message


@pytest.mark.django_db
def test_spend_already_in_the_ledger_counts(personas: Personas, metered: Deployment) -> None:
    # given the department spent $0.04 earlier this month (before Redis knew of it)
    UsageRecord.objects.create(
        request_id="earlier",
        created_at=timezone.now() - timedelta(minutes=5),
        department=personas.eng_plat,
        user=personas.member,
        model_group="metered",
        cost_usd=Decimal("0.04"),
        status="ok",
    )
    department_budget(personas, Decimal("0.05"))
    done, _error = calls_until_refused(caller_for_user(personas.member, source="chat"))
    assert done == 2


@pytest.mark.django_db
def test_failed_and_streamed_calls_settle_their_reservation(
    personas: Personas, metered: Deployment, fake_upstream: FakeUpstream
) -> None:
    department_budget(personas, PER_CALL * 2)
    caller = caller_for_user(personas.member, source="chat")
    # a failed call costs nothing and gives its reservation back
    fake_upstream.faults.append(Fault(status=400, message="bad request"))
    with pytest.raises(Exception, match="bad request"):
        gateway.chat(ask(), caller)
    # streamed calls are charged what they really cost
    for _ in range(2):
        chunks = list(gateway.stream(ask(), caller))
        assert chunks
    with pytest.raises(BudgetExceeded):
        list(gateway.stream(ask(), caller))


@pytest.mark.django_db
def test_budgets_refuse_with_503_when_redis_is_down(
    personas: Personas, metered: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    department_budget(personas, Decimal(1))
    dead = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setattr(
        get_runtime(),
        "redis",
        lambda: aioredis.Redis.from_url(dead, socket_timeout=1, socket_connect_timeout=1),
    )
    with pytest.raises(BudgetUnavailable) as refused:
        gateway.chat(ask(), caller_for_user(personas.member, source="chat"))
    assert refused.value.status == 503
    # without a budget or limit, Redis is not needed
    gateway.chat(ask(), caller_for_user(personas.outsider, source="chat"))
    rate_limit_set(user=personas.outsider, rpm=10, tpm=None, actor=None)
    get_runtime().forget_costs()
    with pytest.raises(RateLimitUnavailable):
        gateway.chat(ask(), caller_for_user(personas.outsider, source="chat"))


@pytest.mark.django_db
def test_key_rate_limit_gives_retry_after(personas: Personas, metered: Deployment) -> None:
    issued = virtual_key_create(user=personas.member, rpm=2)
    caller = caller_for_key(issued.plaintext)
    assert caller is not None
    done, error = calls_until_refused(caller)
    assert done == 2
    assert isinstance(error, RateLimited)
    assert 1 <= (error.retry_after or 0) <= 60
    assert "2 per minute" in error.message


@pytest.mark.django_db
def test_department_rate_limit_counts_everyone_below(
    personas: Personas, metered: Deployment
) -> None:
    rate_limit_set(department=personas.eng, rpm=3, tpm=None, actor=personas.platform_admin)
    gateway.chat(ask(), caller_for_user(personas.dept_admin, source="chat"))
    done, error = calls_until_refused(caller_for_user(personas.member, source="chat"))
    assert done == 2
    assert "department" in error.message
    gateway.chat(ask(), caller_for_user(personas.outsider, source="chat"))


@pytest.mark.django_db
def test_tokens_per_minute(personas: Personas, metered: Deployment) -> None:
    # each call really uses 15 tokens (the fake counts 10 prompt words + 5 answer words);
    # a call is let in while the minute's tokens plus its prompt estimate fit
    estimate = chat_estimate(ask(), "openai").prompt
    rate_limit_set(user=personas.member, rpm=None, tpm=30 + estimate, actor=None)
    done, error = calls_until_refused(caller_for_user(personas.member, source="chat"))
    assert done == 3
    assert "tokens" in error.message


@pytest.mark.django_db
def test_a_deployment_at_its_rpm_hands_over_to_another(
    deployment_factory: DeploymentFactory, personas: Personas
) -> None:
    limited = deployment_factory("pair", rpm=1, weight=1000)
    spare = deployment_factory("pair")
    caller = caller_for_user(personas.member, source="chat")
    for _ in range(3):
        gateway.chat(ask("pair"), caller)
    get_runtime().ledger.flush_sync()
    used = list(
        UsageRecord.objects.filter(model_group="pair").values_list("deployment_id", flat=True)
    )
    assert used.count(limited.pk) == 1
    assert used.count(spare.pk) == 2


@pytest.mark.django_db
def test_the_only_deployment_at_its_rpm_answers_429(
    deployment_factory: DeploymentFactory, personas: Personas
) -> None:
    deployment_factory("single", rpm=1)
    caller = caller_for_user(personas.member, source="chat")
    gateway.chat(ask("single"), caller)
    with pytest.raises(RateLimited) as limited:
        gateway.chat(ask("single"), caller)
    assert "this model" in limited.value.message
