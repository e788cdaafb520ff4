"""Calls paid with an own provider key (BYOK): used in place of the company's key,
metered, budgeted and audited; never logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from orgs.models import AuditEvent
from providers import gateway
from providers.attempt import OwnKeyRequired
from providers.budgets.enforce import BudgetExceeded
from providers.budgets.models import Budget
from providers.budgets.services import budget_create
from providers.keys import caller_for_user
from providers.models import Deployment, UsageRecord
from providers.runtime import get_runtime
from providers.types import ChatMessage, ChatRequest
from providers.vault.services import credential_create, credential_delete
from tests.fake_upstream import FakeUpstream
from tests.personas import Personas

pytestmark = pytest.mark.django_db
DeploymentFactory = Callable[..., Deployment]
OWN_KEY = "sk-own-key-of-park-1234567890abcd"
TEAM_KEY = "sk-team-key-of-eng-0987654321wxyz"


def ask(model: str) -> ChatRequest:
    return ChatRequest(model=model, messages=[ChatMessage(role="user", content="안녕 하세요")])


def sent_key(fake: FakeUpstream) -> str:
    return fake.requests[-1].headers.get("Authorization", "").removeprefix("Bearer ")


def test_an_own_key_replaces_the_company_key_and_is_metered_and_audited(
    personas: Personas,
    deployment_factory: DeploymentFactory,
    fake_upstream: FakeUpstream,
    caplog: pytest.LogCaptureFixture,
) -> None:
    deployment_factory("cloud-gpt", params={}, secret_env={})
    credential = credential_create(
        owner_user=personas.member,
        provider="openai",
        secrets={"api_key": OWN_KEY},
        actor=personas.member,
    )
    caplog.set_level(logging.DEBUG)
    gateway.chat(ask("cloud-gpt"), caller_for_user(personas.member, source="chat"))
    assert sent_key(fake_upstream) == OWN_KEY
    # someone else in another department uses the company's key
    gateway.chat(ask("cloud-gpt"), caller_for_user(personas.outsider, source="chat"))
    assert sent_key(fake_upstream) != OWN_KEY
    get_runtime().ledger.flush_sync()
    mine = UsageRecord.objects.get(user=personas.member)
    assert mine.own_key_id == credential.pk and mine.status == "ok"
    assert UsageRecord.objects.get(user=personas.outsider).own_key_id is None
    use = AuditEvent.objects.get(action="byok.use")
    assert use.actor == personas.member
    assert use.details["credential"] == str(credential.pk)
    assert OWN_KEY not in str(use.details) and OWN_KEY not in caplog.text


def test_a_department_key_serves_its_subtree(
    personas: Personas, deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    deployment_factory("cloud-gpt")
    credential_create(
        owner_department=personas.eng,
        provider="openai",
        secrets={"api_key": TEAM_KEY},
        actor=personas.dept_admin,
    )
    gateway.chat(ask("cloud-gpt"), caller_for_user(personas.member, source="chat"))
    assert sent_key(fake_upstream) == TEAM_KEY


def test_a_model_that_requires_an_own_key(
    personas: Personas,
    deployment_factory: DeploymentFactory,
    fake_upstream: FakeUpstream,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    deployment_factory("bring-your-own", byok="required")
    caller = caller_for_user(personas.member, source="chat")
    with pytest.raises(OwnKeyRequired) as refused:
        gateway.chat(ask("bring-your-own"), caller)
    assert refused.value.status == 403 and "API keys" in refused.value.message
    assert fake_upstream.requests == []
    with django_capture_on_commit_callbacks(execute=True):  # the vault's cache follows commits
        credential = credential_create(
            owner_user=personas.member,
            provider="openai",
            secrets={"api_key": OWN_KEY},
            actor=personas.member,
        )
    gateway.chat(ask("bring-your-own"), caller)
    assert sent_key(fake_upstream) == OWN_KEY
    with django_capture_on_commit_callbacks(execute=True):
        credential_delete(credential=credential, actor=personas.member)
    with pytest.raises(OwnKeyRequired):
        gateway.chat(ask("bring-your-own"), caller)


def test_own_keys_are_off_for_deployments_that_say_so(
    personas: Personas, deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    deployment_factory("company-only", byok="off")
    credential_create(
        owner_user=personas.member,
        provider="openai",
        secrets={"api_key": OWN_KEY},
        actor=personas.member,
    )
    gateway.chat(ask("company-only"), caller_for_user(personas.member, source="chat"))
    assert sent_key(fake_upstream) != OWN_KEY


def test_calls_with_an_own_key_still_count_against_budgets(
    personas: Personas, deployment_factory: DeploymentFactory
) -> None:
    deployment_factory(
        "cloud-gpt", input_cost_per_token=Decimal(0), output_cost_per_token=Decimal("0.01")
    )
    credential_create(
        owner_user=personas.member,
        provider="openai",
        secrets={"api_key": OWN_KEY},
        actor=personas.member,
    )
    budget_create(
        organization=personas.org,
        scope="user",
        user=personas.member,
        period=Budget.Period.MONTH,
        limit_usd=Decimal("0.03"),
        actor=None,
    )
    caller = caller_for_user(personas.member, source="chat")
    request = ChatRequest(
        model="cloud-gpt", messages=[ChatMessage(role="user", content="a b c")], max_tokens=3
    )
    gateway.chat(request, caller)  # "Echo: a b" — 3 tokens, $0.03
    with pytest.raises(BudgetExceeded):
        gateway.chat(request, caller)
