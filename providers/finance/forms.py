"""Typed inputs of the finance pages (R12): the report period and an exchange rate."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from providers.finance.models import ExchangeRate, currency_code_validator
from providers.finance.money import format_rate
from providers.finance.periods import (
    CUSTOM,
    LAST_30_DAYS,
    LAST_MONTH,
    MAX_DAYS,
    THIS_MONTH,
    Period,
    local_today,
    preset_period,
)

if TYPE_CHECKING:
    from decimal import Decimal as DecimalType

    from django.db.models import QuerySet

EARLIEST_DAY = date(2000, 1, 1)
MIN_RATE = Decimal("0.0001")
MAX_RATE = Decimal(100_000)
# A new rate more than this many times above or below its neighbour is almost
# certainly a typo (a slipped decimal point), not a market move.
MAX_JUMP = Decimal(2)


class _DateInput(forms.DateInput):
    """The browser's date picker; it always sends and expects ISO dates."""

    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class PeriodForm(forms.Form):
    """The period of a report, read from the query string: a named period (this month
    so far by default) or, with ``period=custom`` or dates alone, the given days."""

    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        widget=forms.Select(attrs={"data-autosubmit": ""}),
        choices=[
            (THIS_MONTH, _("This month")),
            (LAST_MONTH, _("Last month")),
            (LAST_30_DAYS, _("Last 30 days")),
            (CUSTOM, _("Custom dates")),
        ],
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=_DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=_DateInput())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        preset = cleaned.get("period") or (CUSTOM if first or last else THIS_MONTH)
        if self.errors:
            return cleaned
        if preset != CUSTOM:
            cleaned["resolved"] = preset_period(preset, local_today())
            return cleaned
        if first is None or last is None:
            raise forms.ValidationError(
                _("Give both the first and the last day of the period."), code="incomplete"
            )
        if first > last:
            raise forms.ValidationError(
                _("The start of the period is after its end."), code="period_reversed"
            )
        latest = local_today() + timedelta(days=366)
        if first < EARLIEST_DAY or last > latest:
            raise forms.ValidationError(
                _("Choose dates between %(first)s and %(last)s.")
                % {"first": EARLIEST_DAY.isoformat(), "last": latest.isoformat()},
                code="out_of_range",
            )
        if (last - first).days + 1 > MAX_DAYS:
            raise forms.ValidationError(
                _("A period can be at most %(days)d days long.") % {"days": MAX_DAYS},
                code="too_long",
            )
        cleaned["resolved"] = Period(first, last, CUSTOM)
        return cleaned

    def resolved(self) -> Period:
        """The chosen period. Call only after ``is_valid()`` returned True."""
        period = self.cleaned_data["resolved"]
        assert isinstance(period, Period)  # noqa: S101 - set by clean()
        return period


class ExchangeRateForm(forms.Form):
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        initial="USD",
        help_text=_("ISO 4217 code. The usage ledger records costs in USD."),
    )
    valid_from = forms.DateField(
        label=_("Valid from"),
        widget=_DateInput(),
        help_text=_("Costs from this day on use this rate, until the next rate starts."),
    )
    krw_per_unit = forms.DecimalField(
        label=_("Won per unit"),
        max_digits=12,
        decimal_places=4,
        validators=[
            MinValueValidator(MIN_RATE, _("The rate must be above zero.")),
            MaxValueValidator(MAX_RATE, _("The rate must be at most 100,000 won per unit.")),
        ],
        help_text=_("For example 1387.50 for ₩1,387.50 per US dollar."),
    )
    note = forms.CharField(
        label=_("Source or note"),
        max_length=200,
        required=False,
        help_text=_("Where the rate comes from, for example the bank's base rate."),
    )

    def __init__(self, *args: Any, instance: ExchangeRate | None = None, **kwargs: Any) -> None:
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "currency": instance.currency,
                    "valid_from": instance.valid_from,
                    "krw_per_unit": instance.krw_per_unit,
                    "note": instance.note,
                },
            )
        super().__init__(*args, **kwargs)
        self.instance = instance

    def clean_currency(self) -> str:
        currency = str(self.cleaned_data["currency"]).strip().upper()
        currency_code_validator(currency)
        return currency

    def clean_valid_from(self) -> date:
        day = self.cleaned_data["valid_from"]
        assert isinstance(day, date)  # noqa: S101 - a DateField
        latest = local_today() + timedelta(days=366)
        if not EARLIEST_DAY <= day <= latest:
            raise forms.ValidationError(
                _("Choose a day between %(first)s and %(last)s.")
                % {"first": EARLIEST_DAY.isoformat(), "last": latest.isoformat()},
                code="out_of_range",
            )
        return day

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        currency, day, value = (
            cleaned.get("currency"),
            cleaned.get("valid_from"),
            cleaned.get("krw_per_unit"),
        )
        if not currency or day is None or value is None:
            return cleaned
        others = ExchangeRate.objects.filter(currency=currency)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.filter(valid_from=day).exists():
            self.add_error(
                "valid_from",
                forms.ValidationError(
                    _("A %(currency)s rate starting on this day already exists; edit it instead.")
                    % {"currency": currency},
                    code="duplicate",
                ),
            )
            return cleaned
        self._check_jump(others, day, value)
        return cleaned

    def _check_jump(self, others: QuerySet[ExchangeRate], day: date, value: DecimalType) -> None:
        neighbour = (
            others.filter(valid_from__lt=day).order_by("-valid_from").first()
            or others.filter(valid_from__gt=day).order_by("valid_from").first()
        )
        if neighbour is None:
            return
        ratio = value / neighbour.krw_per_unit
        if ratio > MAX_JUMP or ratio < 1 / MAX_JUMP:
            self.add_error(
                "krw_per_unit",
                forms.ValidationError(
                    _("This is far from the rate of %(day)s (%(rate)s): check the decimal point.")
                    % {
                        "day": neighbour.valid_from.isoformat(),
                        "rate": format_rate(neighbour.krw_per_unit),
                    },
                    code="implausible",
                ),
            )
