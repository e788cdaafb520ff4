from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = _("Organization")

    def ready(self) -> None:
        from orgs import receivers  # noqa: F401 - connects the receivers
        from orgs.sso import receivers as sso_receivers  # noqa: F401
