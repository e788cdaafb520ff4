"""Hits reach the audit trail as kinds and counts, never as values."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from orgs.models import AuditEvent
from providers.pii.guard import pii_hits_record, screen_chat
from providers.types import ChatMessage, ChatRequest

if TYPE_CHECKING:
    from tests.personas import Personas

pytestmark = pytest.mark.django_db

VALUES = ("900101-1234568", "010-1234-5678", "kim@acme.co.kr", "4111 1111 1111 1111")


def test_a_screened_request_is_audited_without_its_values(personas: Personas) -> None:
    text = f"주민번호 {VALUES[0]}, 전화 {VALUES[1]}, 메일 {VALUES[2]}, 카드 {VALUES[3]}"
    request = ChatRequest(model="gpt-4o", messages=[ChatMessage(role="user", content=text)])
    screened = screen_chat(request, action="mask")
    pii_hits_record(
        user_id=personas.member.pk,
        department_id=personas.eng_plat.pk,
        model_name="gpt-4o",
        provider="openai",
        action=screened.action,
        counts=screened.counts,
        source="chat",
    )
    event = AuditEvent.objects.get(action="pii.detected")
    assert event.actor == personas.member
    assert event.department == personas.eng_plat
    assert event.details == {
        "kinds": {
            "card_number": 1,
            "email": 1,
            "phone_number": 1,
            "resident_registration_number": 1,
        },
        "hits": 4,
        "action": "mask",
        "model": "gpt-4o",
        "provider": "openai",
        "source": "chat",
    }
    stored = json.dumps(event.details, ensure_ascii=False) + event.target_repr + event.user_agent
    for value in (*VALUES, "1234568", "12345678", "kim@", "주민번호"):
        assert value not in stored


def test_nothing_found_writes_nothing(personas: Personas) -> None:
    pii_hits_record(
        user_id=personas.member.pk,
        department_id=None,
        model_name="gpt-4o",
        provider="openai",
        action="allow",
        counts={},
        source="api",
    )
    assert not AuditEvent.objects.filter(action="pii.detected").exists()


def test_system_calls_without_user_or_department(db: None) -> None:
    pii_hits_record(
        user_id=None,
        department_id=None,
        model_name="text-embedding-3-small",
        provider="openai",
        action="block",
        counts={"phone_number": 2},
        source="rag",
    )
    event = AuditEvent.objects.get(action="pii.detected")
    assert event.actor is None and event.department is None
    assert event.details["kinds"] == {"phone_number": 2}


@pytest.mark.parametrize(
    "counts",
    [{"phone_number": "010-1234-5678"}, {"010-1234-5678": 1}, {"email": True}],
)
def test_anything_but_kind_counts_is_refused(personas: Personas, counts: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="counts"):
        pii_hits_record(
            user_id=personas.member.pk,
            department_id=None,
            model_name="m",
            provider="p",
            action="mask",
            counts=counts,
            source="api",
        )
    assert not AuditEvent.objects.filter(action="pii.detected").exists()
