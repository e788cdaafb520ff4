"""Budget alerts: recipients, e-mail, notices, webhook, once per threshold."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from orgs.models import AuditEvent
from providers.budgets.alerts import alert_recipients, budget_alert_deliver
from providers.budgets.models import Budget, Notice
from providers.budgets.services import budget_create, budget_update
from tests.personas import Personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_department_alerts_reach_its_admins_and_finance_only(personas: Personas) -> None:
    budget = budget_create(
        organization=personas.org,
        scope="department",
        department=personas.eng_plat,
        period=Budget.Period.MONTH,
        limit_usd=Decimal(10),
        actor=None,
    )
    assert set(alert_recipients(budget)) == {personas.dept_admin, personas.finance}


def test_an_alert_is_mailed_noticed_posted_and_audited_once(
    personas: Personas, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    budget = budget_create(
        organization=personas.org,
        scope="department",
        department=personas.eng,
        period=Budget.Period.MONTH,
        limit_usd=Decimal(10),
        webhook_url=url,
        actor=None,
    )
    start = datetime(2026, 11, 1, tzinfo=ZoneInfo("Asia/Seoul"))
    alert = budget_alert_deliver(
        budget_id=budget.pk, window_start=start, threshold=80, spent_usd=Decimal("8.2")
    )
    assert alert is not None
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {personas.dept_admin.email, personas.finance.email}
    assert "80" in mail.outbox[0].subject and "개발본부" in mail.outbox[0].subject
    assert Notice.objects.filter(alert=alert).count() == 2
    assert received[0]["threshold_percent"] == 80
    assert received[0]["department"] == "ENG"
    assert alert.webhook_status == "204"
    assert AuditEvent.objects.filter(action="budget.alert").count() == 1
    # the same crossing seen again (another process) is not announced twice
    again = budget_alert_deliver(
        budget_id=budget.pk, window_start=start, threshold=80, spent_usd=Decimal("8.3")
    )
    assert again is None
    assert len(mail.outbox) == 1


def test_a_failing_webhook_does_not_lose_the_alert(personas: Personas) -> None:
    budget = budget_create(
        organization=personas.org,
        scope="user",
        user=personas.member,
        period=Budget.Period.DAY,
        limit_usd=Decimal(1),
        webhook_url="http://127.0.0.1:9/unreachable",
        actor=None,
    )
    alert = budget_alert_deliver(
        budget_id=budget.pk, window_start=timezone.now(), threshold=100, spent_usd=Decimal(1)
    )
    assert alert is not None and alert.webhook_status == "ConnectError"
    recipients = set(mail.outbox[0].to)
    assert personas.member.email in recipients and personas.dept_admin.email in recipients
    assert "refused" in mail.outbox[0].body or "거부" in mail.outbox[0].body


def test_a_raised_limit_is_announced_anew(personas: Personas) -> None:
    budget = budget_create(
        organization=personas.org,
        scope="department",
        department=personas.eng,
        period=Budget.Period.MONTH,
        limit_usd=Decimal(10),
        actor=None,
    )
    start = timezone.now()
    assert budget_alert_deliver(
        budget_id=budget.pk, window_start=start, threshold=100, spent_usd=Decimal(10)
    )
    budget_update(
        budget=budget, limit_usd=Decimal(20), enforcement="hard", webhook_url="", actor=None
    )
    again = budget_alert_deliver(
        budget_id=budget.pk, window_start=start, threshold=50, spent_usd=Decimal(10)
    )
    assert again is not None and again.limit_usd == Decimal(20)
    assert (
        budget_alert_deliver(
            budget_id=budget.pk, window_start=start, threshold=50, spent_usd=Decimal(11)
        )
        is None
    )
