"""Who sees what on the finance pages, the drill-down, and the period picker."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from providers.finance.periods import Period, local_today
from tests.providers.finance.conftest import MARCH, Ledger, expected_krw

if TYPE_CHECKING:
    from orgs.models import User

pytestmark = pytest.mark.django_db
MARCH_FIRST, MARCH_LAST = date(2025, 3, 1), date(2025, 3, 31)


def get(client: Client, user: User, url: str, query: dict[str, str] | None = None) -> Any:
    client.force_login(user)
    return client.get(url, MARCH if query is None else query, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("reader", ["finance", "dept_admin"])
def test_finance_and_the_department_admin_read_the_eng_subtree_only(
    client: Client, ledger: Ledger, reader: str
) -> None:
    p = ledger.personas
    response = get(client, getattr(p, reader), "/finance/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-department="ENG"' in page and 'data-department="ENG-PLAT"' in page
    assert 'data-department="HR"' not in page and "인사팀" not in page
    assert 'data-department="FIN"' not in page
    want = expected_krw(
        ledger.rows,
        lambda row: row.department_id in (p.eng.pk, p.eng_plat.pk),
        MARCH_FIRST,
        MARCH_LAST,
    )
    report = response.context["report"]
    assert report.total.cost_usd == want["usd"]
    assert f'data-testid="kpi-krw">₩{report.total.krw:,}<' in page
    # VAT is shown separately: 10 % of the won total, half up.
    assert report.vat_krw == int(
        (Decimal(report.total.krw) / 10).quantize(Decimal(1), ROUND_HALF_UP)
    )
    assert f"VAT ₩{report.vat_krw:,} · ₩{report.total.krw + report.vat_krw:,} with VAT" in page
    for chart in ("chart-daily", "chart-departments", "chart-models"):
        assert f'data-testid="{chart}"><svg ' in page


@pytest.mark.parametrize("reader", ["member", "outsider"])
def test_people_without_usage_rights_get_404_everywhere(
    client: Client, ledger: Ledger, reader: str
) -> None:
    p = ledger.personas
    user = getattr(p, reader)
    for url in (
        "/finance/",
        "/finance/export/departments.csv",
        f"/finance/departments/{p.eng.pk}/",
        f"/finance/departments/{p.eng.pk}/users/{p.member.pk}/",
        f"/finance/departments/{p.eng.pk}/statements/2025-03/",
        "/finance/rates/",
    ):
        assert get(client, user, url).status_code == 404, url


def test_signed_out_visitors_are_sent_to_sign_in(client: Client, ledger: Ledger) -> None:
    response = client.get("/finance/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_platform_admins_see_every_department(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    page = get(client, p.platform_admin, "/finance/").content.decode()
    for code in ("ENG", "ENG-PLAT", "HR", "FIN"):
        assert f'data-department="{code}"' in page
    assert "No department" in page


def test_a_department_outside_the_scope_is_404(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    assert get(client, p.finance, f"/finance/departments/{p.hr.pk}/").status_code == 404
    assert get(client, p.finance, f"/finance/departments/{p.fin.pk}/").status_code == 404
    assert get(client, p.finance, "/finance/departments/999999/").status_code == 404
    assert get(client, p.platform_admin, f"/finance/departments/{p.hr.pk}/").status_code == 200


def test_drill_down_from_department_to_person_to_requests(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    page = get(client, p.finance, f"/finance/departments/{p.eng.pk}/").content.decode()
    member_url = f"/finance/departments/{p.eng.pk}/users/{p.member.pk}/"
    assert member_url in page
    assert f'data-user="{p.member.email}"' in page and f'data-user="{p.outsider.email}"' not in page
    response = get(client, p.finance, member_url)
    assert response.status_code == 200
    lines = response.context["lines"]
    # One line per request: req-retry's two attempts are one request.
    assert [line.request_id for line in lines].count("req-retry") == 1
    retry = next(line for line in lines if line.request_id == "req-retry")
    assert (retry.tally.attempts, retry.model_group, retry.provider, retry.status) == (
        2,
        "claude-sonnet",
        "anthropic",
        "ok",
    )
    assert len(lines) == 4  # 03-01, req-retry, 03-14, 03-31 (the April row is outside)
    assert lines[0].started > lines[-1].started  # newest first


def test_a_person_without_rows_in_the_department_is_404(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    # The outsider exists but their usage is in HR, outside ENG.
    url = f"/finance/departments/{p.eng.pk}/users/{p.outsider.pk}/"
    assert get(client, p.finance, url).status_code == 404
    # The department admin's own rows are in ENG, not in ENG-PLAT.
    url = f"/finance/departments/{p.eng_plat.pk}/users/{p.dept_admin.pk}/"
    assert get(client, p.finance, url).status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "custom", "date_from": "2025-13-01", "date_to": "2025-03-31"}, "valid date"),
        ({"period": "custom", "date_from": "2025-03-31", "date_to": "2025-03-01"}, "after its end"),
        ({"period": "custom", "date_from": "2020-01-01", "date_to": "2025-03-01"}, "at most 366"),
        ({"period": "custom", "date_from": "2025-03-01"}, "both the first and the last day"),
        ({"period": "custom", "date_from": "1999-12-31", "date_to": "2000-01-02"}, "between"),
        ({"period": "yesterday"}, "valid choice"),
    ],
)
def test_a_bad_period_is_a_clear_400(
    client: Client, ledger: Ledger, query: dict[str, str], message: str
) -> None:
    p = ledger.personas
    response = get(client, p.finance, "/finance/", query)
    assert response.status_code == 400
    assert message in response.content.decode()
    export = get(client, p.finance, "/finance/export/departments.csv", query)
    assert export.status_code == 400 and message in export.content.decode()


def test_the_default_period_is_this_month_and_presets_work(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    today = local_today()

    def period(query: dict[str, str]) -> Period:
        response = get(client, p.finance, "/finance/", query)
        assert response.status_code == 200
        return response.context["report"].period  # type: ignore[no-any-return]

    assert period({}) == Period(today.replace(day=1), today, "this_month")
    end_of_last = today.replace(day=1) - timedelta(days=1)
    assert period({"period": "last_month"}) == Period(
        end_of_last.replace(day=1), end_of_last, "last_month"
    )
    assert period({"period": "last_30_days"}) == Period(
        today - timedelta(days=29), today, "last_30_days"
    )
    # A named period wins over stale dates left in the form.
    assert period(
        {"period": "last_30_days", "date_from": "2025-03-01", "date_to": "2025-03-02"}
    ) == (Period(today - timedelta(days=29), today, "last_30_days"))
    # Dates alone mean custom dates.
    assert period({"date_from": "2025-03-01", "date_to": "2025-03-02"}) == Period(
        date(2025, 3, 1), date(2025, 3, 2), "custom"
    )


def test_a_day_without_a_rate_shows_no_rate_on_the_page(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    page = get(client, p.finance, "/finance/").content.decode()
    assert 'data-testid="missing-rate"' in page
    assert "no rate" in page
    assert "2025-03-01" in page and "2025-03-02" in page
