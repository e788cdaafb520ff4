from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from kiwipiepy import Kiwi


class RagConfig(AppConfig):
    name = "rag"
    verbose_name = _("Company knowledge")

    def ready(self) -> None:
        # The Korean analyser loads a ~90 MB model (a second or two), so it is made on
        # first use, once per process, and kept here rather than in a module global (R8).
        self._kiwi: Kiwi | None = None
        self._kiwi_lock = threading.Lock()
        # Query embeddings and keyword rankings beside the vector ranking (two per search).
        self.search_threads = ThreadPoolExecutor(max_workers=8, thread_name_prefix="rag-search")

    def kiwi(self) -> Kiwi:
        """This process's Kiwi analyser, created on the first call."""
        if self._kiwi is None:
            with self._kiwi_lock:
                if self._kiwi is None:
                    from kiwipiepy import Kiwi

                    self._kiwi = Kiwi()
        return self._kiwi
