"""Typed errors of the finance pages (R11); ``message`` is safe to show."""

from __future__ import annotations


class FinanceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RateConflict(FinanceError):
    """Another rate of the same currency already starts on that day."""
