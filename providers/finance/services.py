"""Writes of the finance app: the exchange-rate table, each change audited (R2).

Callers have checked ``can_manage_exchange_rates`` and validated the values with
``ExchangeRateForm``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from orgs.audit import audit_record
from providers.finance.errors import RateConflict
from providers.finance.models import ExchangeRate

if TYPE_CHECKING:
    from datetime import date

    from orgs.audit import RequestContext
    from orgs.models import User


_STORED_PLACES = Decimal("0.0001")


def _facts(rate: ExchangeRate) -> dict[str, Any]:
    return {
        "currency": rate.currency,
        "valid_from": rate.valid_from.isoformat(),
        # As stored (four places), whatever the form was given: 1387.5 → "1387.5000".
        "krw_per_unit": str(Decimal(rate.krw_per_unit).quantize(_STORED_PLACES)),
        "note": rate.note,
    }


def _conflict(currency: str, valid_from: date) -> RateConflict:
    return RateConflict(
        _("A %(currency)s rate starting on %(day)s already exists.")
        % {"currency": currency, "day": valid_from.isoformat()}
    )


@transaction.atomic
def exchange_rate_create(
    *,
    actor: User,
    currency: str,
    valid_from: date,
    krw_per_unit: Decimal,
    note: str = "",
    context: RequestContext | None = None,
) -> ExchangeRate:
    try:
        with transaction.atomic():
            rate = ExchangeRate.objects.create(
                currency=currency,
                valid_from=valid_from,
                krw_per_unit=krw_per_unit,
                note=note,
                created_by=actor,
            )
    except IntegrityError:
        raise _conflict(currency, valid_from) from None
    audit_record(
        actor=actor,
        action="exchange_rate.create",
        target=rate,
        details=_facts(rate),
        context=context,
    )
    return rate


@transaction.atomic
def exchange_rate_update(
    *,
    actor: User,
    rate: ExchangeRate,
    currency: str,
    valid_from: date,
    krw_per_unit: Decimal,
    note: str = "",
    context: RequestContext | None = None,
) -> ExchangeRate:
    before = _facts(ExchangeRate.objects.select_for_update().get(pk=rate.pk))
    rate.currency, rate.valid_from, rate.krw_per_unit, rate.note = (
        currency,
        valid_from,
        krw_per_unit,
        note,
    )
    try:
        with transaction.atomic():
            rate.save()
    except IntegrityError:
        raise _conflict(currency, valid_from) from None
    audit_record(
        actor=actor,
        action="exchange_rate.update",
        target=rate,
        details={"before": before, "after": _facts(rate)},
        context=context,
    )
    return rate


@transaction.atomic
def exchange_rate_delete(
    *, actor: User, rate: ExchangeRate, context: RequestContext | None = None
) -> None:
    facts = _facts(rate)
    target_repr = str(rate)
    audit_record(
        actor=actor,
        action="exchange_rate.delete",
        target=rate,
        target_repr=target_repr,
        details=facts,
        context=context,
    )
    rate.delete()
