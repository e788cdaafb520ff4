"""Celery tasks of the chat app (thin, idempotent; R13)."""

from __future__ import annotations

from celery import shared_task

from chatapp.health import worker_heartbeat_record
from chatapp.services import streaming_messages_mark_interrupted

# A generator touches its message at least every HEARTBEAT_SECONDS (chatapp.generation).
STALE_SECONDS = 120


@shared_task(name="chatapp.worker_heartbeat", ignore_result=False, acks_late=False)
def worker_heartbeat() -> float:
    """Record that a worker is alive and consuming. Run by beat every 30 s.

    Cheap and safe to run any number of times; no retries (the next beat run is the retry).
    """
    return worker_heartbeat_record()


@shared_task(name="chatapp.mark_interrupted_answers", ignore_result=True)
def mark_interrupted_answers() -> int:
    """Answers whose generating process died (no heartbeat for 2 minutes) are marked
    interrupted, so they are never shown as complete. Run by beat every minute;
    idempotent; no retries (the next run is the retry)."""
    return streaming_messages_mark_interrupted(stale_seconds=STALE_SECONDS)
