"""The personal data guard in the gateway: masked or blocked for models outside the
company network, as the policy says; on-premises models get the text as written."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from orgs.models import AuditEvent
from providers import gateway
from providers.keys import caller_for_user, virtual_key_create
from providers.models import Deployment
from providers.pii.guard import PiiBlocked
from providers.pii.services import pii_policy_create
from providers.types import ChatMessage, ChatRequest, EmbeddingRequest
from tests.fake_upstream import FakeUpstream
from tests.personas import Personas

DeploymentFactory = Callable[..., Deployment]
RRN = "900101-1234568"
PROMPT = (
    f"제 주민등록번호는 {RRN} 이고 연락처는 010-2345-6789 입니다. 연말정산 서류를 정리해 주세요."
)


def ask(model: str) -> ChatRequest:
    return ChatRequest(model=model, messages=[ChatMessage(role="user", content=PROMPT)])


def last_sent_text(fake: FakeUpstream) -> str:
    return json.dumps(fake.requests[-1].body, ensure_ascii=False)


@pytest.fixture
def models(deployment_factory: DeploymentFactory) -> None:
    deployment_factory("cloud-gpt")  # openai: outside the company network by default
    deployment_factory("gemma-onprem", provider="hosted_vllm")
    deployment_factory("vpc-qwen", on_premises=True)


@pytest.mark.django_db
def test_masked_for_a_cloud_model_by_default_and_audited_without_the_value(
    personas: Personas, models: None, fake_upstream: FakeUpstream
) -> None:
    response = gateway.chat(ask("cloud-gpt"), caller_for_user(personas.member, source="chat"))
    sent = last_sent_text(fake_upstream)
    assert RRN not in sent and "010-2345-6789" not in sent
    assert "[주민등록번호]" in sent and "[전화번호]" in sent
    assert RRN not in response.content
    event = AuditEvent.objects.get(action="pii.detected")
    assert event.details["action"] == "mask"
    assert RRN not in json.dumps(event.details, ensure_ascii=False)
    assert "2345" not in json.dumps(event.details)


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["gemma-onprem", "vpc-qwen"])
def test_on_premises_models_get_the_text_as_written(
    personas: Personas, models: None, fake_upstream: FakeUpstream, model: str
) -> None:
    gateway.chat(ask(model), caller_for_user(personas.member, source="chat"))
    assert RRN in last_sent_text(fake_upstream)
    assert not AuditEvent.objects.filter(action="pii.detected").exists()


@pytest.mark.django_db
def test_a_department_block_policy_refuses_and_names_what_was_found(
    personas: Personas, models: None, fake_upstream: FakeUpstream
) -> None:
    pii_policy_create(
        department=personas.eng, model_name="", action="block", actor=personas.platform_admin
    )
    caller = caller_for_user(personas.member, source="chat")  # ENG-PLAT inherits ENG's rule
    with pytest.raises(PiiBlocked) as blocked:
        gateway.chat(ask("cloud-gpt"), caller)
    assert blocked.value.status == 400
    assert "resident registration number ×1" in blocked.value.message  # noqa: RUF001
    assert RRN not in blocked.value.message
    assert fake_upstream.requests == []
    assert AuditEvent.objects.get(action="pii.detected").details["action"] == "block"
    # the same prompt goes to the on-premises model
    gateway.chat(ask("gemma-onprem"), caller)
    assert RRN in last_sent_text(fake_upstream)
    # and HR, without a rule, gets the default (masking)
    gateway.chat(ask("cloud-gpt"), caller_for_user(personas.outsider, source="chat"))
    assert "[주민등록번호]" in last_sent_text(fake_upstream)


# Committed: the blocking stream runs the audit write on a thread of its own (another
# database connection), which would wait for the test's open transaction.
@pytest.mark.django_db(transaction=True)
def test_streams_and_embeddings_are_screened_too(
    personas: Personas,
    models: None,
    deployment_factory: DeploymentFactory,
    fake_upstream: FakeUpstream,
) -> None:
    caller = caller_for_user(personas.member, source="chat")
    text = "".join(chunk.delta for chunk in gateway.stream(ask("cloud-gpt"), caller))
    assert RRN not in last_sent_text(fake_upstream) and RRN not in text
    deployment_factory("cloud-embed", mode="embedding")
    gateway.embed(EmbeddingRequest(model="cloud-embed", inputs=[PROMPT, "평범한 문장"]), caller)
    sent = fake_upstream.requests[-1].body["input"]
    assert RRN not in sent[0] and sent[1] == "평범한 문장"


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_a_block_in_openais_shape(
    live_daphne: str, personas: Personas, models: None
) -> None:
    pii_policy_create(
        department=None, model_name="cloud-gpt", action="block", actor=personas.platform_admin
    )
    key = virtual_key_create(user=personas.outsider).plaintext
    response = httpx.post(
        f"{live_daphne}/v1/chat/completions",
        json={"model": "cloud-gpt", "messages": [{"role": "user", "content": PROMPT}]},
        headers={"Authorization": f"Bearer {key}", "Accept-Language": "en"},
        timeout=20,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "pii_blocked")
    assert "resident registration number" in error["message"]
    assert RRN not in error["message"]
    # without Accept-Language, in the site's language (Korean)
    korean = httpx.post(
        f"{live_daphne}/v1/chat/completions",
        json={"model": "cloud-gpt", "messages": [{"role": "user", "content": PROMPT}]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=20,
    )
    assert "주민등록번호" in korean.json()["error"]["message"]
