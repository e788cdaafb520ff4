"""The exchange-rate table: who may change it, what it accepts, and the audit trail."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from orgs.models import AuditEvent
from providers.finance.models import ExchangeRate

if TYPE_CHECKING:
    from django.test import Client

    from tests.personas import Personas

pytestmark = pytest.mark.django_db
VALID = {"currency": "usd", "valid_from": "2025-04-01", "krw_per_unit": "1387.50", "note": "KEB"}


def post(client: Client, url: str, data: dict[str, str]) -> str:
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    return f"{response.status_code} {response.content.decode()}"


@pytest.mark.parametrize("maintainer", ["finance", "platform_admin"])
def test_finance_and_platform_admins_maintain_the_rates(
    client: Client, personas: Personas, maintainer: str
) -> None:
    user = getattr(personas, maintainer)
    client.force_login(user)
    assert client.get("/finance/rates/add/").status_code == 200
    response = client.post("/finance/rates/add/", VALID)
    assert response.status_code == 302
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.valid_from, rate.krw_per_unit, rate.created_by) == (
        "USD",
        date(2025, 4, 1),
        Decimal("1387.50"),
        user,
    )
    created = AuditEvent.objects.get(action="exchange_rate.create")
    assert created.actor == user and created.details["krw_per_unit"] == "1387.5000"

    response = client.post(f"/finance/rates/{rate.pk}/edit/", {**VALID, "krw_per_unit": "1390"})
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.krw_per_unit == Decimal("1390")
    updated = AuditEvent.objects.get(action="exchange_rate.update")
    assert updated.details["before"]["krw_per_unit"] == "1387.5000"
    assert updated.details["after"]["krw_per_unit"] == "1390.0000"

    assert client.get(f"/finance/rates/{rate.pk}/delete/").status_code == 200
    assert client.post(f"/finance/rates/{rate.pk}/delete/").status_code == 302
    assert not ExchangeRate.objects.exists()
    deleted = AuditEvent.objects.get(action="exchange_rate.delete")
    assert deleted.details["valid_from"] == "2025-04-01" and deleted.actor == user


def test_department_admins_only_read_the_rates(client: Client, personas: Personas) -> None:
    rate = ExchangeRate.objects.create(
        currency="USD", valid_from=date(2025, 3, 1), krw_per_unit=Decimal("1450")
    )
    client.force_login(personas.dept_admin)
    page = client.get("/finance/rates/")
    assert page.status_code == 200 and "₩1,450.00" in page.content.decode()
    assert f"/finance/rates/{rate.pk}/edit/" not in page.content.decode()
    assert client.get("/finance/rates/add/").status_code == 404
    assert client.post("/finance/rates/add/", VALID).status_code == 404
    assert client.post(f"/finance/rates/{rate.pk}/edit/", VALID).status_code == 404
    assert client.post(f"/finance/rates/{rate.pk}/delete/").status_code == 404
    assert ExchangeRate.objects.get().krw_per_unit == Decimal("1450")
    assert not AuditEvent.objects.filter(action__startswith="exchange_rate.").exists()


@pytest.mark.parametrize("persona", ["member", "outsider"])
def test_others_do_not_see_the_rates(client: Client, personas: Personas, persona: str) -> None:
    client.force_login(getattr(personas, persona))
    assert client.get("/finance/rates/").status_code == 404
    assert client.post("/finance/rates/add/", VALID).status_code == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"krw_per_unit": "0"}, "The rate must be above zero."),
        ({"krw_per_unit": "-1387.5"}, "The rate must be above zero."),
        ({"krw_per_unit": "250000"}, "at most 100,000 won"),
        ({"krw_per_unit": "abc"}, "Enter a number."),
        ({"valid_from": "1990-01-01"}, "Choose a day between 2000-01-01"),
        ({"valid_from": "2999-01-01"}, "Choose a day between 2000-01-01"),
        ({"valid_from": "2025-02-30"}, "Enter a valid date."),
        ({"currency": "US1"}, "three-letter ISO 4217"),
        ({"valid_from": "2025-03-01"}, "already exists"),
        ({"krw_per_unit": "14500"}, "check the decimal point"),
        ({"krw_per_unit": "145.0"}, "check the decimal point"),
    ],
)
def test_implausible_rates_are_refused_with_a_clear_message(
    client: Client, personas: Personas, change: dict[str, str], message: str
) -> None:
    ExchangeRate.objects.create(
        currency="USD", valid_from=date(2025, 3, 1), krw_per_unit=Decimal("1450")
    )
    client.force_login(personas.finance)
    answer = post(client, "/finance/rates/add/", {**VALID, **change})
    assert answer.startswith("400 ") and message in answer
    assert ExchangeRate.objects.count() == 1


def test_editing_a_rate_may_keep_its_own_day(client: Client, personas: Personas) -> None:
    rate = ExchangeRate.objects.create(
        currency="USD", valid_from=date(2025, 4, 1), krw_per_unit=Decimal("1380")
    )
    client.force_login(personas.finance)
    assert client.post(f"/finance/rates/{rate.pk}/edit/", VALID).status_code == 302
