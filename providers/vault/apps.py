from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VaultConfig(AppConfig):
    name = "providers.vault"
    label = "vault"
    verbose_name = _("Your own provider keys")

    def ready(self) -> None:
        from providers.vault.index import CredentialIndex

        self.index = CredentialIndex()
