"""Celery tasks of the chat app (thin, idempotent; R13)."""

from __future__ import annotations

from celery import shared_task

from chatapp.health import worker_heartbeat_record


@shared_task(name="chatapp.worker_heartbeat", ignore_result=False, acks_late=False)
def worker_heartbeat() -> float:
    """Record that a worker is alive and consuming. Run by beat every 30 s.

    Cheap and safe to run any number of times; no retries (the next beat run is the retry).
    """
    return worker_heartbeat_record()
