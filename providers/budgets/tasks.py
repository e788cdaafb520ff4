"""Celery tasks of the budgets app."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task

from providers.budgets.alerts import budget_alert_deliver
from providers.budgets.table import from_nano


@shared_task(name="budgets.alert_send", acks_late=True)
def budget_alert_send(budget_id: int, window_start: str, threshold: int, spent_nano: int) -> None:
    budget_alert_deliver(
        budget_id=budget_id,
        window_start=datetime.fromisoformat(window_start),
        threshold=threshold,
        spent_usd=from_nano(spent_nano),
    )
