"""Database work of the event loop's tasks, off the loop and off the one shared thread.

``sync_to_async`` runs on a single thread by default, so every generation's writes
would wait behind every other socket's queries. ``db_call`` runs on a small pool of
threads of the process instead (``DB_THREADS``), each call with its own connection,
handed back at the end (to the process's pool in the web server, see
``settings.DATABASE_POOL``). Small on purpose: ORM work holds the GIL, and with six
threads of it at once (the default executor) the event loop relaying every stream
waited its turn behind them. Under ``bench.chat_ws`` (150 conversations of 40 words)
the added gap p99 went from about 400 to 140 ms with two.

``blocking_call`` is for work that mostly waits on the network (a search embeds its
question through the gateway): on the default executor, so it never holds up the
small pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Final, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection

from chatapp.runtime import get_chat_runtime

P = ParamSpec("P")
T = TypeVar("T")
DB_THREADS: Final = 2


def _closing(fn: Callable[P, T]) -> Callable[P, T]:
    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            connection.close()

    return run


def db_call(fn: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    return sync_to_async(
        _closing(fn), thread_sensitive=False, executor=get_chat_runtime().db_executor()
    )


def blocking_call(fn: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    return sync_to_async(_closing(fn), thread_sensitive=False)
