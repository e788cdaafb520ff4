"""How many chunks contain a search token, estimated from PostgreSQL's own statistics.

``ANALYZE`` (run by autovacuum as chunks come and go) keeps, for a tsvector column,
the most common lexemes and the fraction of rows that contain each
(``pg_stats.most_common_elems`` / ``most_common_elem_freqs``; the last three
frequencies are the minimum, the maximum and the null fraction). A token missing
from that list is rarer than the minimum. Keyword search uses these estimates to
match on a query's selective tokens instead of scanning every chunk that contains
"있" or "것" (``rag.search.keyword_match``).

Read at most every ``REFRESH_SECONDS`` per process: the figures move slowly.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Final

from django.db import connection

REFRESH_SECONDS: Final = 300.0


@dataclass(frozen=True)
class TermStats:
    rows: float = 0.0
    frequencies: dict[str, float] = field(default_factory=dict)
    floor: float = 0.0  # every token not listed is in fewer than this fraction of rows

    def estimate(self, token: str) -> float:
        """The estimated number of chunks whose tsvector contains ``token``."""
        return self.rows * self.frequencies.get(token, self.floor)


EMPTY: Final = TermStats()
_lock = threading.Lock()
_cached: tuple[float, TermStats] | None = None


def term_stats_read() -> TermStats:
    """The statistics as PostgreSQL holds them now (``EMPTY`` before any ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
            "FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename "
            "AND c.relnamespace = to_regnamespace(s.schemaname) "
            "WHERE s.schemaname = current_schema() AND s.tablename = 'rag_chunk' "
            "AND s.attname = 'tsv'"
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[1] is None:
        return EMPTY
    elems, freqs, rows = row
    listed = len(elems)
    return TermStats(
        rows=max(float(rows), 0.0),
        frequencies=dict(zip(elems, (float(f) for f in freqs[:listed]), strict=True)),
        floor=float(freqs[listed]) if len(freqs) > listed else 0.0,
    )


def term_stats() -> TermStats:
    """``term_stats_read``, cached for ``REFRESH_SECONDS`` in this process."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < REFRESH_SECONDS:
        return cached[1]
    with _lock:
        stats = term_stats_read()
        _cached = (now, stats)
    return stats


def term_stats_forget() -> None:
    """Read the statistics again on next use (tests, after a bulk load)."""
    global _cached
    _cached = None
