"""The monthly statement: lines per model, subtotal, VAT shown separately, total."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from providers.models import UsageRecord
from tests.providers.finance.conftest import Ledger, expected_krw, in_departments

pytestmark = pytest.mark.django_db


def test_the_statement_adds_up_and_matches_the_ledger(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    client.force_login(p.finance)
    response = client.get(
        f"/finance/departments/{p.eng.pk}/statements/2025-03/", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    statement = response.context["statement"]
    assert [d.code for d in statement.included] == ["ENG", "ENG-PLAT"]
    assert statement.subtotal_krw == sum(line.tally.krw for line in statement.lines)
    assert statement.vat_krw == int(
        (Decimal(statement.subtotal_krw) * Decimal("0.10")).quantize(Decimal(1), "ROUND_HALF_UP")
    )
    assert statement.subtotal_krw + statement.vat_krw == statement.total_krw
    eng_subtree = in_departments(p.eng, p.eng_plat)
    for line in statement.lines:

        def of_model(row: UsageRecord, model: str = line.key) -> bool:
            return row.model_group == model and eng_subtree(row)

        want = expected_krw(ledger.rows, of_model, date(2025, 3, 1), date(2025, 3, 31))
        assert (line.tally.krw, line.tally.cost_usd) == (want["krw"], want["usd"])
    # Both USD rates were used; the first two days had none and are reported.
    assert [use.rate.krw_per_unit for use in statement.rates_used] == [
        Decimal("1450.25"),
        Decimal("1462.80"),
    ]
    assert not statement.complete and not statement.provisional
    page = response.content.decode()
    assert f'data-testid="statement-total" data-krw="{statement.total_krw}"' in page
    assert "VAT (10%)" in page
    assert 'data-testid="missing-rate"' in page


def test_the_statement_csv(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    client.force_login(p.finance)
    response = client.get(f"/finance/departments/{p.eng_plat.pk}/statements/2025-03/statement.csv")
    assert response.status_code == 200 and response.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_name = {row["model_group"]: row for row in rows}
    subtotal, vat, total = (int(by_name[k]["cost_krw"]) for k in ("SUBTOTAL", "VAT", "TOTAL"))
    lines = [row for row in rows if row["model_group"] not in ("SUBTOTAL", "VAT", "TOTAL")]
    assert subtotal == sum(int(row["cost_krw"]) for row in lines)
    assert subtotal + vat == total
    want = expected_krw(
        ledger.rows, lambda r: r.department_id == p.eng_plat.pk, date(2025, 3, 1), date(2025, 3, 31)
    )
    assert Decimal(by_name["SUBTOTAL"]["cost_usd"]) == want["usd"]


def test_statement_months_and_scope(client: Client, ledger: Ledger) -> None:
    p = ledger.personas
    client.force_login(p.finance)
    assert client.get(f"/finance/departments/{p.eng.pk}/statements/2025-13/").status_code == 404
    assert client.get(f"/finance/departments/{p.eng.pk}/statements/1999-01/").status_code == 404
    assert client.get(f"/finance/departments/{p.eng.pk}/statements/2025-3/").status_code == 404
    assert client.get(f"/finance/departments/{p.hr.pk}/statements/2025-03/").status_code == 404
    client.force_login(p.platform_admin)
    assert client.get(f"/finance/departments/{p.hr.pk}/statements/2025-03/").status_code == 200
