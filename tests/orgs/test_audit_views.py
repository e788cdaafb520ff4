"""The audit viewer, its CSV export, and the sign-in events it shows."""

from __future__ import annotations

import codecs
import csv
import io
import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from orgs.audit import RequestContext, audit_record, audit_verify
from orgs.models import AuditEvent, User
from orgs.selectors import AuditEventFilters, audit_event_list
from tests.personas import PERSONA_PASSWORD, Personas

pytestmark = pytest.mark.django_db

LIST_URL = "/org/audit/"
EXPORT_URL = "/org/audit/export.csv"
LOGIN_URL = "/accounts/login/"
LOGOUT_URL = "/accounts/logout/"
CSV_HEADER = [
    "seq",
    "time",
    "actor",
    "action",
    "target",
    "department",
    "ip",
    "user_agent",
    "details",
    "hash",
]


def shown_seqs(client: Client, **query: str) -> set[int]:
    response = client.get(LIST_URL, query)
    assert response.status_code == 200
    page = response.context["page"]
    assert page is not None, response.context["form"].errors
    return {event.seq for event in page.object_list}


def export(client: AsyncClient, **query: str) -> tuple[StreamingHttpResponse, bytes]:
    """The CSV as a browser gets it: through the ASGI handler, streamed chunk by chunk."""

    async def fetch() -> tuple[StreamingHttpResponse, bytes]:
        response = await client.get(EXPORT_URL, query)
        assert isinstance(response, StreamingHttpResponse)
        assert response.is_async
        chunks = [chunk async for chunk in response.streaming_content]
        return response, b"".join(chunks)

    return async_to_sync(fetch)()


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(body[len(codecs.BOM_UTF8) :].decode("utf-8"))))


@pytest.fixture
def shared_document(personas: Personas) -> AuditEvent:
    return audit_record(
        actor=personas.dept_admin,
        action="document.share",
        target_repr="설계 문서",
        department=personas.eng,
        details={"문서": "설계 문서", "부서": ["ENG-PLAT"]},
        context=RequestContext(ip="203.0.113.5", user_agent='=HYPERLINK("http://x.test")'),
    )


@pytest.fixture
def deleted_document(personas: Personas) -> AuditEvent:
    return audit_record(
        actor=personas.outsider,
        action="document.delete",
        target_repr="급여 규정",
        department=personas.hr,
    )


def test_the_viewer_lives_at_its_named_urls() -> None:
    assert reverse("orgs:audit_list") == LIST_URL
    assert reverse("orgs:audit_export") == EXPORT_URL


# --- who may look ---------------------------------------------------------------


@pytest.mark.parametrize("persona", ["member", "dept_admin", "finance", "outsider"])
def test_only_platform_admins_see_the_audit_log(
    client: Client, personas: Personas, persona: str
) -> None:
    # given
    client.force_login(getattr(personas, persona))
    # when
    list_status = client.get(LIST_URL).status_code
    export_status = client.get(EXPORT_URL).status_code
    # then: shaped like a missing page, so the log's existence is not confirmed
    assert (list_status, export_status) == (404, 404)


def test_platform_admin_sees_the_audit_log(
    client: Client, personas: Personas, shared_document: AuditEvent
) -> None:
    # given
    client.force_login(personas.platform_admin)
    # when
    response = client.get(LIST_URL)
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "설계 문서" in html
    assert "이지은" in html
    assert f'href="{EXPORT_URL}"' in html
    assert "<script" not in html.split("</head>", 1)[1]  # CSP: nothing inline
    assert "style=" not in html


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    for url in (LIST_URL, EXPORT_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


# --- filters --------------------------------------------------------------------


def test_filter_by_actor_name_in_korean_or_email(
    client: Client,
    personas: Personas,
    shared_document: AuditEvent,
    deleted_document: AuditEvent,
) -> None:
    # given
    client.force_login(personas.platform_admin)
    # when / then
    assert shown_seqs(client, actor="이지은") == {shared_document.seq}
    assert shown_seqs(client, actor="지은") == {shared_document.seq}
    assert shown_seqs(client, actor="HR@ACME") == {deleted_document.seq}


def test_filter_by_department_and_action(
    client: Client,
    personas: Personas,
    shared_document: AuditEvent,
    deleted_document: AuditEvent,
) -> None:
    # given
    client.force_login(personas.platform_admin)
    # when
    in_hr = shown_seqs(client, department=str(personas.hr.pk))
    deletions = shown_seqs(client, action="document.delete")
    # then
    assert deleted_document.seq in in_hr
    assert shared_document.seq not in in_hr
    assert set(
        AuditEvent.objects.filter(seq__in=in_hr).values_list("department_id", flat=True)
    ) == {personas.hr.pk}
    assert deletions == {deleted_document.seq}


def test_action_choices_come_from_the_trail(
    client: Client, personas: Personas, deleted_document: AuditEvent
) -> None:
    # given
    client.force_login(personas.platform_admin)
    # when
    choices = [value for value, _ in client.get(LIST_URL).context["form"].fields["action"].choices]
    # then
    assert choices[0] == ""
    assert "document.delete" in choices
    assert "department.create" in choices
    # each action once (their order follows the database's collation)
    assert sorted(choices[1:]) == sorted(set(AuditEvent.objects.values_list("action", flat=True)))


def test_filter_by_period_in_local_days(
    client: Client, personas: Personas, shared_document: AuditEvent
) -> None:
    # given
    client.force_login(personas.platform_admin)
    today = timezone.localdate(shared_document.created_at)
    # when / then
    assert shared_document.seq in shown_seqs(
        client, date_from=today.isoformat(), date_to=today.isoformat()
    )
    assert shown_seqs(client, date_from=(today + timedelta(days=1)).isoformat()) == set()
    assert shown_seqs(client, date_to=(today - timedelta(days=1)).isoformat()) == set()


def test_a_reversed_period_is_refused(client: Client, personas: Personas) -> None:
    # given
    client.force_login(personas.platform_admin)
    # when
    response = client.get(LIST_URL, {"date_from": "2026-03-02", "date_to": "2026-03-01"})
    # then
    assert response.status_code == 200
    assert response.context["page"] is None
    assert response.context["form"].errors
    assert (
        client.get(EXPORT_URL, {"date_from": "2026-03-02", "date_to": "2026-03-01"}).status_code
        == 400
    )


def test_fifty_events_per_page_and_the_filters_stay(client: Client, personas: Personas) -> None:
    # given
    for n in range(60):
        audit_record(actor=personas.member, action="test.bulk", details={"n": n})
    client.force_login(personas.platform_admin)
    # when
    first = client.get(LIST_URL, {"action": "test.bulk"})
    second = client.get(LIST_URL, {"action": "test.bulk", "page": "2"})
    # then
    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 10
    assert "?action=test.bulk&amp;page=2" in first.content.decode()


def test_the_list_costs_the_same_queries_for_few_or_many_events(
    client: Client, personas: Personas, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # given
    client.force_login(personas.platform_admin)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST_URL)
    for n in range(40):
        audit_record(
            actor=personas.dept_admin if n % 2 else personas.outsider,
            action=f"test.kind{n % 3}",
            department=personas.eng if n % 2 else personas.hr,
        )
    # when
    with CaptureQueriesContext(connection) as many:
        client.get(LIST_URL)
    # then
    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_num_queries(1):
        rows = [
            (
                event.actor.name if event.actor else "",
                event.department.code if event.department else "",
            )
            for event in audit_event_list(AuditEventFilters())[:50]
        ]
    assert ("이지은", "ENG") in rows


# --- CSV export -----------------------------------------------------------------


def test_csv_export_has_bom_header_and_korean_rows(
    async_client: AsyncClient, personas: Personas, shared_document: AuditEvent
) -> None:
    # given
    async_client.force_login(personas.platform_admin)
    # when
    response, body = export(async_client)
    # then
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-')
    rows = csv_rows(body)
    assert rows[0] == CSV_HEADER
    assert len(rows) - 1 == AuditEvent.objects.count()
    row = next(r for r in rows[1:] if r[3] == "document.share")
    assert row == [
        str(shared_document.seq),
        timezone.localtime(shared_document.created_at).isoformat(),
        "lead@acme.test",
        "document.share",
        "설계 문서",
        "ENG",
        "203.0.113.5",
        '\'=HYPERLINK("http://x.test")',  # a spreadsheet shows it, never runs it
        '{"문서": "설계 문서", "부서": ["ENG-PLAT"]}',
        shared_document.hash,
    ]
    assert row[1].endswith("+09:00")
    assert json.loads(row[8]) == shared_document.details


def test_csv_export_follows_the_filters(
    async_client: AsyncClient,
    personas: Personas,
    shared_document: AuditEvent,
    deleted_document: AuditEvent,
) -> None:
    # given
    async_client.force_login(personas.platform_admin)
    # when
    _, body = export(async_client, actor="김민수")
    # then
    rows = csv_rows(body)
    assert [r[0] for r in rows[1:]] == [str(deleted_document.seq)]
    assert rows[1][4] == "급여 규정"


def test_csv_export_reads_in_batches(
    async_client: AsyncClient, personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given more events than one batch holds
    monkeypatch.setattr("orgs.views.audit.EXPORT_BATCH_SIZE", 7)
    for n in range(30):
        audit_record(actor=personas.member, action="test.bulk", details={"n": n})
    async_client.force_login(personas.platform_admin)
    # when
    _, body = export(async_client, action="test.bulk")
    # then every event comes out once, newest first
    seqs = [int(r[0]) for r in csv_rows(body)[1:]]
    assert len(seqs) == 30
    assert seqs == sorted(seqs, reverse=True)


# --- sign-in events -------------------------------------------------------------


def test_sign_in_and_sign_out_are_recorded_with_the_address(
    client: Client, personas: Personas
) -> None:
    # given
    address, browser = "198.51.100.20", {"user-agent": "Mozilla/5.0 (사내 PC)"}
    # when
    signed_in = client.post(
        LOGIN_URL,
        {"login": personas.member.email, "password": PERSONA_PASSWORD},
        REMOTE_ADDR=address,
        headers=browser,
    )
    signed_out = client.post(LOGOUT_URL, REMOTE_ADDR=address, headers=browser)
    # then
    assert (signed_in.status_code, signed_out.status_code) == (302, 302)
    login = AuditEvent.objects.get(action="auth.login")
    logout = AuditEvent.objects.get(action="auth.logout")
    for event in (login, logout):
        assert event.actor == personas.member
        assert event.actor_email == "member@acme.test"
        assert event.ip == "198.51.100.20"
        assert event.user_agent == "Mozilla/5.0 (사내 PC)"
        assert event.department == personas.eng_plat
    assert logout.seq > login.seq
    assert audit_verify().ok


def test_signing_out_without_a_session_records_nothing(client: Client, personas: Personas) -> None:
    # when
    client.post(LOGOUT_URL)
    # then
    assert not AuditEvent.objects.filter(action="auth.logout").exists()


@pytest.mark.parametrize("login", ["member@acme.test", "nobody@acme.test"])
def test_a_failed_sign_in_records_the_login_but_never_the_password(
    client: Client, personas: Personas, login: str
) -> None:
    # given
    wrong_password = "Wrong-Pa55word-기밀"
    # when
    response = client.post(
        LOGIN_URL, {"login": login, "password": wrong_password}, REMOTE_ADDR="198.51.100.30"
    )
    # then
    assert response.status_code == 200  # the form again, with its error
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor is None
    assert event.actor_email == ""
    assert event.details == {"login": login}
    assert event.target_repr == login
    assert event.ip == "198.51.100.30"
    stored = json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)
    assert wrong_password not in stored
    assert not User.objects.get(email="member@acme.test").last_login
    assert audit_verify().ok
