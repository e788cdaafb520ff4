"""Budget, rate limit and notice pages, per persona."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from orgs.models import AuditEvent
from providers.budgets.models import Budget, Notice, RateLimit
from providers.budgets.services import budget_create
from tests.personas import Personas

pytestmark = pytest.mark.django_db


def eng_budget(personas: Personas, department: object = None) -> Budget:
    return budget_create(
        organization=personas.org,
        scope="department",
        department=department or personas.eng,  # type: ignore[arg-type]
        period=Budget.Period.MONTH,
        limit_usd=Decimal(100),
        actor=personas.platform_admin,
    )


def test_members_and_outsiders_have_no_budget_pages(client: Client, personas: Personas) -> None:
    budget = eng_budget(personas)
    for user in (personas.member, personas.outsider):
        client.force_login(user)
        assert client.get("/budgets/").status_code == 404
        assert client.get(f"/budgets/{budget.pk}/").status_code == 404
        assert client.post(f"/budgets/{budget.pk}/delete/").status_code == 404
        assert client.get("/budgets/rate-limits/").status_code == 404
    assert Budget.objects.filter(pk=budget.pk).exists()


def test_a_department_admin_sees_but_cannot_raise_their_own_departments_budget(
    client: Client, personas: Personas
) -> None:
    own = eng_budget(personas)
    below = eng_budget(personas, personas.eng_plat)
    client.force_login(personas.dept_admin)
    page = client.get("/budgets/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-budget="{own.pk}"' in page and f'data-budget="{below.pk}"' in page
    assert (
        client.post(
            f"/budgets/{own.pk}/", {"limit_usd": "999999", "enforcement": "soft"}
        ).status_code
        == 404
    )
    response = client.post(
        f"/budgets/{below.pk}/", {"limit_usd": "5", "enforcement": "hard", "webhook_url": ""}
    )
    assert response.status_code == 302
    below.refresh_from_db()
    assert below.limit_usd == Decimal(5)
    assert AuditEvent.objects.filter(action="budget.update", actor=personas.dept_admin).exists()


def test_finance_sets_budgets_for_the_departments_it_reads(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.finance)
    response = client.post(
        "/budgets/",
        {
            "scope": "department",
            "department": personas.eng.pk,
            "period": "month",
            "limit_usd": "250",
            "enforcement": "hard",
        },
    )
    assert response.status_code == 302
    assert Budget.objects.get(department=personas.eng).limit_usd == Decimal(250)
    # but not for HR, nor the organization
    for data in (
        {"scope": "department", "department": personas.hr.pk},
        {"scope": "organization"},
    ):
        response = client.post(
            "/budgets/",
            {"period": "month", "limit_usd": "1", "enforcement": "hard", **data},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 400
    assert not Budget.objects.filter(department=personas.hr).exists()
    assert not Budget.objects.filter(scope="organization").exists()


def test_bad_input_is_a_clear_form_error(client: Client, personas: Personas) -> None:
    client.force_login(personas.platform_admin)
    response = client.post(
        "/budgets/",
        {"scope": "department", "period": "month", "limit_usd": "-3", "enforcement": "hard"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "Choose the department this budget is for." in text
    assert "greater than or equal to 0.01" in text


def test_rate_limits_page_sets_and_removes_a_limit(client: Client, personas: Personas) -> None:
    client.force_login(personas.platform_admin)
    client.post("/budgets/rate-limits/", {"department": personas.hr.pk, "rpm": "30", "tpm": ""})
    assert RateLimit.objects.get(department=personas.hr).rpm == 30
    client.post("/budgets/rate-limits/", {"department": personas.hr.pk, "rpm": "", "tpm": ""})
    assert not RateLimit.objects.filter(department=personas.hr).exists()
    response = client.post("/budgets/rate-limits/", {"rpm": "3"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Choose either a department or a person." in response.content.decode()


def test_notices_show_in_the_header_and_can_be_marked_read(
    client: Client, personas: Personas
) -> None:
    Notice.objects.create(recipient=personas.dept_admin, title="Budget alert: 개발본부 80%")
    Notice.objects.create(recipient=personas.outsider, title="someone else's")
    client.force_login(personas.dept_admin)
    page = client.get("/budgets/notices/").content.decode()
    assert "Budget alert: 개발본부 80%" in page and "someone else" not in page
    assert 'data-testid="unread-notices">1<' in page
    client.post("/budgets/notices/")
    assert 'data-testid="unread-notices"' not in client.get("/budgets/notices/").content.decode()


def test_a_platform_admin_sets_a_key_budget_in_the_admin_site(
    client: Client, personas: Personas
) -> None:
    from providers.keys import virtual_key_create

    key = virtual_key_create(user=personas.member, name="batch job").key
    client.force_login(personas.platform_admin)
    response = client.post(
        "/admin/budgets/budget/add/",
        {
            "scope": "key",
            "organization": personas.org.pk,
            "virtual_key": key.pk,
            "period": "day",
            "limit_usd": "3",
            "enforcement": "hard",
            "webhook_url": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    budget = Budget.objects.get(virtual_key=key)
    assert budget.limit_usd == Decimal(3)
    assert AuditEvent.objects.filter(action="budget.create", actor=personas.platform_admin).exists()


def test_an_admin_outside_any_organization_sets_budgets(client: Client, personas: Personas) -> None:
    from orgs.models import User

    admin = User.objects.create_superuser("root@example.com", "pw-123456789")
    client.force_login(admin)
    for data in ({"scope": "department", "department": personas.eng.pk}, {"scope": "organization"}):
        response = client.post(
            "/budgets/", {"period": "month", "limit_usd": "10", "enforcement": "hard", **data}
        )
        assert response.status_code == 302
    assert Budget.objects.get(scope="department").organization == personas.org
    assert Budget.objects.get(scope="organization").organization == personas.org
