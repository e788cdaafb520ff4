"""Identifiers of gateway requests."""

from __future__ import annotations

import os


def new_request_id() -> str:
    """32 random hex digits, as a random UUID's hex, without building a UUID object
    (two per API request cost 2 % of the gateway's CPU)."""
    return os.urandom(16).hex()
