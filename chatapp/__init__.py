"""The Django project and the chat itself."""

from __future__ import annotations

from chatapp.celery import app as celery_app

__all__ = ["celery_app"]
