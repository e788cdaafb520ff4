"""One person's client requests, one line per ``request_id`` (all its attempts summed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Max, Min, Q

from providers.finance.selectors import day_sums, ledger_rows
from providers.finance.tally import Tally, tally_line

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from django.db.models import QuerySet

    from providers.finance.periods import Period
    from providers.finance.rates import RateTable
    from providers.finance.scope import UsageScope
    from providers.models import UsageRecord


# Up to this many requests are looked up by id; an export of everything reads the
# person's whole period instead of sending a huge IN list.
_PAGE_LOOKUP_LIMIT = 500


@dataclass(frozen=True)
class RequestLine:
    """``model_group``, ``provider`` and ``status`` are the final attempt's (what the
    client received); without a final attempt, the latest seen."""

    request_id: str
    started: datetime
    model_group: str
    provider: str
    source: str
    status: str
    tally: Tally


def _final_or_any(field: str) -> Any:
    return Max(field, filter=Q(is_final=True))


def request_rows(scope: UsageScope, user_id: int, period: Period) -> QuerySet[UsageRecord, Any]:
    """The grouped rows (one per request, newest first) to paginate; turn a page into
    lines with :func:`request_lines`."""
    return (
        ledger_rows(scope, period)
        .filter(user_id=user_id)
        .order_by()
        .values("request_id")
        .annotate(
            started=Min("created_at"),
            final_model=_final_or_any("model_group"),
            any_model=Max("model_group"),
            final_provider=_final_or_any("provider"),
            any_provider=Max("provider"),
            final_status=_final_or_any("status"),
            source=Max("source"),
        )
        .order_by("-started", "request_id")
    )


def request_lines(
    rows: Iterable[dict[str, Any]],
    *,
    scope: UsageScope,
    user_id: int,
    period: Period,
    rates: RateTable,
) -> list[RequestLine]:
    """Lines for ``rows`` from :func:`request_rows`; tokens and cost come from a second
    query per day, so attempts on both sides of midnight use each day's rate."""
    heads = list(rows)
    attempts = ledger_rows(scope, period).filter(user_id=user_id)
    if len(heads) <= _PAGE_LOOKUP_LIMIT:
        attempts = attempts.filter(request_id__in=[head["request_id"] for head in heads])
    days = day_sums(attempts, "request_id")
    return [
        RequestLine(
            request_id=head["request_id"],
            started=head["started"],
            model_group=head["final_model"] or head["any_model"] or "",
            provider=head["final_provider"] or head["any_provider"] or "",
            source=head["source"] or "",
            status=head["final_status"] or "",
            tally=tally_line(days.get(head["request_id"], []), rates),
        )
        for head in heads
    ]
