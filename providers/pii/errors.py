"""Typed errors of the PII guard's policy writes (R11). ``PiiBlocked``, raised on the
gateway path, lives in ``providers.pii.guard`` with the other gateway errors' kin."""

from __future__ import annotations


class PiiPolicyError(Exception):
    """``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PiiPolicyConflict(PiiPolicyError):
    """A rule for the same department and model exists already."""
