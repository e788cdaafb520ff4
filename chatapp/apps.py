from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatappConfig(AppConfig):
    name = "chatapp"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from chatapp import receivers  # noqa: F401 - connects the receivers
        from chatapp.runtime import ChatRuntime

        self.runtime = ChatRuntime()
