"""The usage ledger: costs, and rows written off the request path in batches.

Rows are buffered in memory and written in batches by a background thread a
moment later, never on the request path, with PostgreSQL's COPY: building a model
object per row for ``bulk_create`` cost the writer thread about 0.1 ms per request,
8 % of the gateway's CPU per request (bench.gateway), where COPY costs a fifth.
Whatever is still buffered when the process exits normally is written by an
``atexit`` hook, so a gracefully stopped process loses no row.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from providers.models import UsageRecord

if TYPE_CHECKING:
    from providers.snapshot import Prices
    from providers.types import Usage

logger = logging.getLogger(__name__)
MAX_BUFFERED = 10_000


def cost_usd(prices: Prices, usage: Usage) -> Decimal:
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    cache_price = prices.cache_read if prices.cache_read is not None else prices.input
    return (
        prices.input * (usage.prompt_tokens - cached)
        + cache_price * cached
        + prices.output * usage.completion_tokens
    )


@cache
def _copy_plan() -> tuple[str, tuple[tuple[str, Any], ...]]:
    """The COPY statement for usage rows, and each column's field name and default."""
    fields = [field for field in UsageRecord._meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    statement = f"COPY {quote(UsageRecord._meta.db_table)} ({columns}) FROM STDIN"
    return statement, tuple((field.attname, field.get_default()) for field in fields)


def rows_write(rows: list[dict[str, Any]]) -> None:
    """Store usage rows (``UsageRecord`` field values by attribute name) in one COPY."""
    statement, fields = _copy_plan()
    unknown = set().union(*rows) - {name for name, _ in fields}
    if unknown:
        raise ValueError(f"usage rows have no fields {sorted(unknown)}")
    # Errors raised by the driver's COPY become Django's, as for any query.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for row in rows:
            copy.write_row([row.get(name, default) for name, default in fields])


class LedgerWriter:
    """Buffers rows and writes them in batches from one background thread per process."""

    def __init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        # Held while rows are being written, so a caller's flush_sync returns only once
        # everything added before it (even rows the background thread took) is stored.
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = False
        atexit.register(self.flush_sync)

    def add(self, record: dict[str, Any]) -> None:
        """``record``: UsageRecord field values; the row object is built when written."""
        with self._lock:
            self._pending.append(record)
            if len(self._pending) > MAX_BUFFERED:
                logger.warning("usage ledger buffer is large; the database may be slow")
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="usage-ledger", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        # This thread keeps its database connection between flushes; it is closed
        # (and reopened on the next flush) only after a failed write.
        while not self._stopping:
            self._wake.wait()
            time.sleep(settings.LEDGER_FLUSH_MS / 1000)  # let a batch gather
            self._wake.clear()
            if self.flush_sync() < 0:
                close_old_connections()
        connection.close()

    def stop(self) -> None:
        """Write what is buffered and end the writer thread (closing its connection)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._stopping = False
        self.flush_sync()

    def flush_sync(self) -> int:
        """Write what is buffered; the number of rows written, or -1 if the write failed
        (the rows then stay buffered for the next flush)."""
        with self._writing:
            with self._lock:
                rows, self._pending = self._pending, []
            if not rows:
                return 0
            try:
                rows_write(rows)
            except DatabaseError:
                logger.exception(
                    "could not write %s usage rows; keeping them for the next flush", len(rows)
                )
                with self._lock:
                    self._pending[:0] = rows
                return -1
            return len(rows)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)
