"""Database work of the event loop's tasks, off the loop and off the one shared thread.

``sync_to_async`` runs on the one thread shared with every request by default.
``db_call`` runs on threads of the chat's own (``settings.CHAT_DB_THREADS``, one by
default), each call with its own connection, handed back at the end (to the
process's pool in the web server, see ``settings.DATABASE_POOL``). Few on purpose:
ORM work holds the GIL, and with six threads of it at once (the default executor)
the event loop relaying every stream waited its turn behind them. Under
``bench.chat_ws`` with 200 conversations of 40 words started at once, the added gap
p99 was about 500 ms with six threads, 120 ms with two and 56 ms with one; the price
is the first token of such a burst (p99 4.1 s with two, 5.8 s with one).

``blocking_call`` is for work that mostly waits on the network (a search embeds its
question through the gateway): on the default executor, so it never holds up the
small pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection

from chatapp.runtime import get_chat_runtime

P = ParamSpec("P")
T = TypeVar("T")


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
