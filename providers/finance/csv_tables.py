"""The finance tables as CSV rows (pure): stable column names, exact USD, whole won.

Every table ends with a ``TOTAL`` row, the sum of the rows above it (won included:
the sum of the displayed lines). ``cost_krw`` is empty when no part of a line could
be converted (no exchange rate); ``usd_without_rate`` says how much was left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

from providers.finance.tally import tally_total

if TYPE_CHECKING:
    from collections.abc import Sequence

    from providers.finance.csv_export import Cell
    from providers.finance.request_log import RequestLine
    from providers.finance.selectors import DayLine, DepartmentLine, KeyedLine, UserLine
    from providers.finance.statements import Statement
    from providers.finance.tally import Tally

Table = tuple[list[str], list[list["Cell"]]]
TOTAL = "TOTAL"
MEASURES = [
    "requests",
    "attempts",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "cost_krw",
    "usd_without_rate",
]


def _measures(tally: Tally) -> list[Cell]:
    return [
        tally.requests,
        tally.attempts,
        tally.prompt_tokens,
        tally.completion_tokens,
        tally.cost_usd,
        tally.krw if tally.has_krw else None,
        tally.unconverted_usd,
    ]


def department_table(lines: Sequence[DepartmentLine]) -> Table:
    header = ["department_code", "department_name", *MEASURES, "cost_krw_with_subdepartments"]
    rows: list[list[Cell]] = []
    for line in lines:
        code = line.department.code if line.department else ""
        name = line.department.name if line.department else _("No department")
        subtree = line.subtree.krw if line.subtree.has_krw else None
        rows.append([code, name, *_measures(line.own), subtree])
    total = tally_total(line.own for line in lines)
    rows.append([TOTAL, "", *_measures(total), None])
    return header, rows


def user_table(lines: Sequence[UserLine]) -> Table:
    header = ["user_email", "user_name", *MEASURES]
    rows: list[list[Cell]] = [[line.email, line.name, *_measures(line.tally)] for line in lines]
    rows.append([TOTAL, "", *_measures(tally_total(line.tally for line in lines))])
    return header, rows


def keyed_table(column: str, lines: Sequence[KeyedLine]) -> Table:
    header = [column, *MEASURES]
    rows: list[list[Cell]] = [[line.key, *_measures(line.tally)] for line in lines]
    rows.append([TOTAL, *_measures(tally_total(line.tally for line in lines))])
    return header, rows


def day_table(lines: Sequence[DayLine]) -> Table:
    header = ["date", "krw_per_usd", *MEASURES]
    rows: list[list[Cell]] = [
        [
            line.day.isoformat(),
            line.rate.krw_per_unit if line.rate else None,
            *_measures(line.tally),
        ]
        for line in lines
    ]
    rows.append([TOTAL, None, *_measures(tally_total(line.tally for line in lines))])
    return header, rows


def request_table(lines: Sequence[RequestLine]) -> Table:
    header = ["time", "request_id", "model_group", "provider", "source", "status", *MEASURES]
    rows: list[list[Cell]] = [
        [
            timezone.localtime(line.started).isoformat(timespec="seconds"),
            line.request_id,
            line.model_group,
            line.provider,
            line.source,
            line.status,
            *_measures(line.tally),
        ]
        for line in lines
    ]
    rows.append([TOTAL, "", "", "", "", "", *_measures(tally_total(line.tally for line in lines))])
    return header, rows


def statement_table(statement: Statement) -> Table:
    header = ["model_group", *MEASURES]
    rows: list[list[Cell]] = [[line.key, *_measures(line.tally)] for line in statement.lines]
    blank: list[Cell] = [None] * 5
    rows.append(["SUBTOTAL", *_measures(statement.total)])
    rows.append(["VAT", *blank, statement.vat_krw, None])
    rows.append([TOTAL, *blank, statement.total_krw, None])
    return header, rows
