"""Finance signs in, reads and charts this month's cost per department in won, and
downloads the CSV, whose figures match the ledger (headless chromium against daphne)."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from providers.budgets.periods import window_bounds
from providers.finance.models import ExchangeRate
from providers.finance.periods import local_today
from providers.models import UsageRecord
from tests.personas import PERSONA_PASSWORD, Personas
from tests.providers.finance.conftest import expected_krw, usage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_finance_reads_charts_and_exports_the_months_cost_per_department(
    page: Page, live_daphne: str, personas: Personas, tmp_path: Path
) -> None:
    p = personas
    ExchangeRate.objects.create(
        currency="USD",
        valid_from=local_today().replace(day=1) - timedelta(days=10),
        krw_per_unit=Decimal("1387.65"),
    )
    # Rows just after the month began: inside "this month so far" whenever the test runs.
    start, _ = window_bounds("month", timezone.now())
    rows = UsageRecord.objects.bulk_create(
        [
            usage(
                at=start + timedelta(minutes=1), user=p.member, department=p.eng_plat, cost="3.21"
            ),
            usage(
                at=start + timedelta(minutes=2), user=p.dept_admin, department=p.eng, cost="1.2345"
            ),
            usage(
                at=start + timedelta(minutes=2), user=p.member, department=p.eng_plat, cost="0.05"
            ),
            usage(at=start + timedelta(minutes=2), user=p.outsider, department=p.hr, cost="99"),
        ]
    )
    first, last = local_today().replace(day=1), local_today()
    eng_krw = expected_krw(rows, lambda r: r.department_id == p.eng.pk, first, last)["krw"]
    plat_krw = expected_krw(rows, lambda r: r.department_id == p.eng_plat.pk, first, last)["krw"]

    # Finance signs in and opens "Usage and cost" from the header.
    page.goto(f"{live_daphne}/accounts/login/")
    page.fill("#id_login", p.finance.email)
    page.fill("#id_password", PERSONA_PASSWORD)
    page.click("[data-testid=local-login-submit]")
    page.get_by_test_id("finance-link").click()
    expect(page.get_by_test_id("finance-dashboard")).to_be_visible()

    # The charts are drawn, and the departments are in won; HR is not in finance's scope.
    for chart in ("chart-daily", "chart-departments", "chart-models"):
        expect(page.get_by_test_id(chart).locator("svg[role=img]")).to_be_visible()
    table = page.get_by_test_id("departments-table")
    expect(table.locator("tr[data-department=ENG] td.krw").first).to_have_text(f"₩{eng_krw:,}")
    expect(table.locator("tr[data-department=ENG-PLAT] td.krw").first).to_have_text(
        f"₩{plat_krw:,}"
    )
    expect(table.locator("tr[data-department=HR]")).to_have_count(0)
    expect(page.get_by_test_id("kpi-krw")).to_have_text(f"₩{eng_krw + plat_krw:,}")

    # The CSV download carries the same figures.
    with page.expect_download() as download_info:
        page.get_by_test_id("export-departments").click()
    saved = tmp_path / "departments.csv"
    download_info.value.save_as(saved)
    body = saved.read_bytes()
    assert body.startswith(codecs.BOM_UTF8)
    exported = {
        row["department_code"]: row for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
    }
    assert set(exported) == {"ENG", "ENG-PLAT", "TOTAL"}
    assert int(exported["ENG"]["cost_krw"]) == eng_krw
    assert int(exported["ENG-PLAT"]["cost_krw"]) == plat_krw
    assert int(exported["TOTAL"]["cost_krw"]) == eng_krw + plat_krw
    assert exported["ENG-PLAT"]["department_name"] == "플랫폼팀"
    assert Decimal(exported["TOTAL"]["cost_usd"]) == Decimal("3.21") + Decimal("1.2345") + Decimal(
        "0.05"
    )
