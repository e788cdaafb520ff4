from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BudgetsConfig(AppConfig):
    name = "providers.budgets"
    label = "budgets"
    verbose_name = _("Budgets and rate limits")
