"""Database work of the event loop's background tasks, off the loop and off the
one shared thread.

``sync_to_async`` runs on a single thread by default, so every generation's
writes would wait behind every other socket's queries. ``db_call`` runs on the
executor's threads instead, each call with its own connection, handed back at the
end (to the process's pool in the web server, see ``settings.DATABASE_POOL``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection

P = ParamSpec("P")
T = TypeVar("T")


def db_call(fn: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    return sync_to_async(run, thread_sensitive=False)
