from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = _("AI gateway")

    def ready(self) -> None:
        from providers.runtime import GatewayRuntime

        self.runtime = GatewayRuntime()
        from providers import receivers  # noqa: F401 - connects the receivers
