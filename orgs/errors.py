"""Typed errors of the organization layer (R11)."""

from __future__ import annotations


class OrgError(Exception):
    """Base error; ``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AccessDenied(OrgError):
    """Shaped like a 404 by interfaces, so existence is not leaked."""


class OrgChartError(OrgError):
    """A malformed org chart file; ``location`` is ``file:line``."""

    def __init__(self, message: str, *, location: str = "") -> None:
        super().__init__(f"{location}: {message}" if location else message)
        self.location = location
