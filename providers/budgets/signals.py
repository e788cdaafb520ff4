"""Signals the budgets app sends; higher apps turn them into realtime events."""

from __future__ import annotations

from django.dispatch import Signal

# user_ids: list[int], title: str — new in-app notices for these people.
notices_created = Signal()
