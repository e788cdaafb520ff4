"""CSV exports: UTF-8 with BOM, formula-safe, and totals equal to the ledger."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from providers.models import UsageRecord
from tests.providers.finance.conftest import (
    MARCH,
    Ledger,
    expected_krw,
    in_departments,
    seoul,
    usage,
)

if TYPE_CHECKING:
    from django.test import Client

    from orgs.models import User

pytestmark = pytest.mark.django_db
FIRST, LAST = date(2025, 3, 1), date(2025, 3, 31)


def download(client: Client, user: User, url: str) -> list[dict[str, str]]:
    client.force_login(user)
    response = client.get(url, MARCH)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    body = response.content
    assert body.startswith(codecs.BOM_UTF8)
    return list(csv.DictReader(io.StringIO(body[len(codecs.BOM_UTF8) :].decode("utf-8"))))


def test_the_department_csv_matches_the_ledger(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    rows = download(client, p.finance, "/finance/export/departments.csv")
    by_code = {row["department_code"]: row for row in rows}
    assert set(by_code) == {"ENG", "ENG-PLAT", "TOTAL"}
    assert by_code["ENG"]["department_name"] == "개발본부"
    for department in (p.eng, p.eng_plat):
        want = expected_krw(ledger.rows, in_departments(department), FIRST, LAST)
        row = by_code[department.code]
        assert int(row["cost_krw"]) == want["krw"]
        assert Decimal(row["cost_usd"]) == want["usd"]
        assert Decimal(row["usd_without_rate"]) == want["unconverted"]
        assert int(row["requests"]) == want["requests"]
    total = by_code["TOTAL"]
    assert int(total["cost_krw"]) == int(by_code["ENG"]["cost_krw"]) + int(
        by_code["ENG-PLAT"]["cost_krw"]
    )
    assert int(by_code["ENG"]["cost_krw_with_subdepartments"]) == int(total["cost_krw"])
    everything = expected_krw(
        ledger.rows, lambda r: r.department_id in (p.eng.pk, p.eng_plat.pk), FIRST, LAST
    )
    assert Decimal(total["cost_usd"]) == everything["usd"]
    assert abs(int(total["cost_krw"]) - everything["krw"]) <= 1  # one rounding per line


@pytest.mark.parametrize("table", ["models", "providers", "days"])
def test_every_dashboard_table_adds_up(client: Client, ledger: Ledger, table: str) -> None:
    p = ledger.personas
    rows = download(client, p.platform_admin, f"/finance/export/{table}.csv")
    *lines, total = rows
    first_column = next(iter(total))
    assert total[first_column] == "TOTAL"
    assert sum(Decimal(row["cost_usd"]) for row in lines) == Decimal(total["cost_usd"])
    assert sum(int(row["cost_krw"] or 0) for row in lines) == int(total["cost_krw"])
    assert (
        Decimal(total["cost_usd"]) == expected_krw(ledger.rows, lambda r: True, FIRST, LAST)["usd"]
    )


def test_a_day_without_a_rate_has_an_empty_won_cell_not_zero(
    client: Client, ledger: Ledger
) -> None:
    p = ledger.personas
    rows = {row["date"]: row for row in download(client, p.finance, "/finance/export/days.csv")}
    assert rows["2025-03-01"]["cost_krw"] == ""
    assert rows["2025-03-01"]["krw_per_usd"] == ""
    assert Decimal(rows["2025-03-01"]["usd_without_rate"]) == Decimal("0.4125")
    assert rows["2025-03-03"]["krw_per_usd"] == "1450.25"
    assert rows["2025-03-05"]["cost_krw"] == "0"  # no usage: a real zero


def test_the_people_and_request_csvs(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    people = download(client, p.finance, f"/finance/departments/{p.eng.pk}/export/users.csv")
    emails = [row["user_email"] for row in people]
    assert emails[-1] == "TOTAL" and set(emails[:-1]) == {p.member.email, p.dept_admin.email}
    requests = download(
        client, p.finance, f"/finance/departments/{p.eng.pk}/users/{p.member.pk}/export.csv"
    )
    *lines, total = requests
    assert len(lines) == 4 and total["time"] == "TOTAL"
    want = expected_krw(
        ledger.rows,
        lambda r: r.user_id == p.member.pk and r.department_id == p.eng_plat.pk,
        FIRST,
        LAST,
    )
    assert Decimal(total["cost_usd"]) == want["usd"]
    retry = next(line for line in lines if line["request_id"] == "req-retry")
    assert (retry["attempts"], retry["requests"], retry["status"]) == ("2", "1", "ok")


def test_cells_that_look_like_formulas_are_defused(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    UsageRecord.objects.bulk_create(
        [
            usage(
                at=seoul(2025, 3, 10, 12),
                user=p.member,
                department=p.eng_plat,
                cost="1",
                model='=HYPERLINK("http://evil.test","x")',
                provider="@SUM(A1)",
            )
        ]
    )
    models = download(client, p.finance, "/finance/export/models.csv")
    assert '\'=HYPERLINK("http://evil.test","x")' in [row["model_group"] for row in models]
    providers = download(client, p.finance, "/finance/export/providers.csv")
    assert "'@SUM(A1)" in [row["provider"] for row in providers]


def test_an_unknown_table_is_404(client: Client, ledger: Ledger) -> None:
    client.force_login(ledger.personas.finance)
    assert client.get("/finance/export/secrets.csv").status_code == 404
