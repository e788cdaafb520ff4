"""Finance's own data: the dated exchange-rate table that turns ledger costs into won."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

currency_code_validator = RegexValidator(
    r"^[A-Z]{3}\Z", _("Enter a three-letter ISO 4217 currency code, such as USD.")
)


class ExchangeRate(models.Model):
    """How many won one unit of ``currency`` is worth from ``valid_from`` on.

    A day's cost is converted with the rate whose ``valid_from`` is the latest on or
    before that day; a day before the first rate of its currency cannot be converted.
    """

    currency = models.CharField(
        _("currency"), max_length=3, default="USD", validators=[currency_code_validator]
    )
    valid_from = models.DateField(_("valid from"))
    krw_per_unit = models.DecimalField(_("won per unit"), max_digits=12, decimal_places=4)
    note = models.CharField(_("source or note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ("currency", "-valid_from")
        constraints = [
            models.UniqueConstraint(
                fields=("currency", "valid_from"), name="exchange_rate_one_per_day"
            ),
            models.CheckConstraint(name="exchange_rate_positive", condition=Q(krw_per_unit__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.valid_from}: {self.krw_per_unit} KRW"
