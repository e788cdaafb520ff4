"""How client requests moved between attempts: retries within a model group and
fallbacks to another, per deployment and for the whole window.

Only requests with a second attempt can retry or fall back. They are few, so
their attempts are grouped and ordered; single-attempt requests are only
counted, in a plain scan of the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import connection

from providers.models import UsageRecord

if TYPE_CHECKING:
    from datetime import datetime

# Attempts of one request lie this close together (the router's overall deadline
# is far shorter), so looking this far past a window's edges finds a request's
# other attempts when they straddle the edge.
REQUEST_SPREAD = timedelta(hours=1)


@dataclass(frozen=True)
class Handoffs:
    """Attempts of a deployment that took over from, or handed over to, another attempt
    of the same request: within the model group (retries) or across groups (fallbacks)."""

    retries_in: int = 0
    retries_out: int = 0
    fallbacks_in: int = 0
    fallbacks_out: int = 0


@dataclass(frozen=True)
class RequestSummary:
    """Client requests whose first attempt lies in the window."""

    requests: int
    retried: int  # more than one attempt
    fell_back: int  # the last attempt went to another model group than the first
    failed: int  # no attempt succeeded and the caller did not cancel
    cancelled: int


def _params(start: datetime, end: datetime) -> dict[str, datetime]:
    return {"start": start, "end": end, "lo": start - REQUEST_SPREAD, "hi": end + REQUEST_SPREAD}


def _table() -> str:
    return connection.ops.quote_name(UsageRecord._meta.db_table)


def _retried_ids() -> str:
    return f"""
        SELECT request_id FROM {_table()}
        WHERE attempt = 2 AND created_at >= %(lo)s AND created_at < %(hi)s
    """  # noqa: S608 - the only interpolation is our own quoted table name


def handoff_counts(*, start: datetime, end: datetime) -> dict[int | None, Handoffs]:
    """Per deployment, over its attempts in ``[start, end)``: attempts that followed an
    earlier attempt of the same request (in) and attempts that a later one followed
    (out), split by whether the neighbouring attempt was in the same model group
    (retry) or another (fallback). Deployments without any are left out."""
    sql = f"""
        WITH attempts AS (
            SELECT deployment_id, model_group, created_at,
                   lag(model_group) OVER w AS previous_group,
                   lead(model_group) OVER w AS next_group
            FROM {_table()}
            WHERE created_at >= %(lo)s AND created_at < %(hi)s
              AND request_id IN ({_retried_ids()})
            WINDOW w AS (PARTITION BY request_id ORDER BY attempt)
        )
        SELECT deployment_id,
               count(*) FILTER (WHERE previous_group = model_group),
               count(*) FILTER (WHERE next_group = model_group),
               count(*) FILTER (WHERE previous_group <> model_group),
               count(*) FILTER (WHERE next_group <> model_group)
        FROM attempts
        WHERE created_at >= %(start)s AND created_at < %(end)s
        GROUP BY deployment_id
    """  # noqa: S608 - the only interpolation is our own quoted table name
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(start, end))
        return {row[0]: Handoffs(*row[1:]) for row in cursor.fetchall()}


def request_summary_get(*, start: datetime, end: datetime) -> RequestSummary:
    """Client requests (not attempts) that began in ``[start, end)``. A request whose
    every attempt failed has no ``is_final`` row, so its last attempt is the one with
    the highest number."""
    sql = f"""
        WITH retried AS (
            SELECT (array_agg(model_group ORDER BY attempt))[1]
                       <> (array_agg(model_group ORDER BY attempt DESC))[1] AS fell_back,
                   bool_or(status = 'ok') AS succeeded,
                   bool_or(status = 'cancelled') AS cancelled,
                   min(created_at) AS began
            FROM {_table()}
            WHERE created_at >= %(lo)s AND created_at < %(hi)s
              AND request_id IN ({_retried_ids()})
            GROUP BY request_id
        ),
        requests AS (
            SELECT false AS retried, false AS fell_back,
                   status = 'ok' AS succeeded, status = 'cancelled' AS cancelled
            FROM {_table()}
            WHERE attempt = 1 AND created_at >= %(start)s AND created_at < %(end)s
              AND request_id NOT IN ({_retried_ids()})
            UNION ALL
            SELECT true, fell_back, succeeded, cancelled
            FROM retried
            WHERE began >= %(start)s AND began < %(end)s
        )
        SELECT count(*),
               count(*) FILTER (WHERE retried),
               count(*) FILTER (WHERE fell_back),
               count(*) FILTER (WHERE NOT succeeded AND NOT cancelled),
               count(*) FILTER (WHERE cancelled AND NOT succeeded)
        FROM requests
    """  # noqa: S608 - the only interpolation is our own quoted table name
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(start, end))
        row = cursor.fetchone()
    assert row is not None  # noqa: S101 - an aggregate without GROUP BY returns one row
    return RequestSummary(*row)
