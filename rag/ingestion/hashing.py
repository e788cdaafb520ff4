"""Content hashes for spotting a file that was already uploaded."""

from __future__ import annotations

import hashlib


def content_hash(data: bytes) -> str:
    """SHA-256 of the file's bytes, as 64 lowercase hex digits.

    Two uploads with the same hash are the same file, whatever their names; the
    pipeline reuses the first one's chunks instead of parsing and embedding again.
    """
    return hashlib.sha256(data).hexdigest()
