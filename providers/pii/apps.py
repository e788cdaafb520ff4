from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PiiConfig(AppConfig):
    name = "providers.pii"
    label = "pii"
    verbose_name = _("Personal data guard")

    def ready(self) -> None:
        from providers.pii.memo import FindingsMemo
        from providers.pii.policy import PolicyCache

        self.policy_cache = PolicyCache()
        self.findings_memo = FindingsMemo()
        from providers.pii import receivers  # noqa: F401 - connects the receivers
