"""Remember the findings of long texts screened recently, so that the history a
chat resends on every turn is not scanned again.

Entries are keyed by a BLAKE2b digest of the text: neither the text nor any value
in it is kept, only kinds and offsets. One memo per process (``PiiConfig.ready``).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from django.apps import apps

from providers.pii.detect import Finding, find_pii, may_hold_pii

# Below this size hashing costs about as much as scanning.
MIN_CHARS = 256
MAX_ENTRIES = 4096


class FindingsMemo:
    def __init__(self, *, max_entries: int = MAX_ENTRIES, min_chars: int = MIN_CHARS) -> None:
        self.max_entries = max_entries
        self.min_chars = min_chars
        self._entries: OrderedDict[bytes, tuple[Finding, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def find(self, text: str) -> list[Finding]:
        """``find_pii(text)``, from the memo when this text was seen recently."""
        if len(text) < self.min_chars or not may_hold_pii(text):
            return find_pii(text)
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            known = self._entries.get(key)
            if known is not None:
                self._entries.move_to_end(key)
                return list(known)
        findings = find_pii(text)
        with self._lock:
            self._entries[key] = tuple(findings)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return findings

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def findings_memo() -> FindingsMemo:
    config = apps.get_app_config("pii")
    memo: FindingsMemo = config.findings_memo  # type: ignore[attr-defined]
    return memo
