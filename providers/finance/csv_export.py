"""CSV for spreadsheets: UTF-8 with a BOM (Excel then reads Korean correctly), and no
cell that a spreadsheet would run as a formula.

Text cells that start like a formula get a leading apostrophe; numbers are written
as numbers (a negative amount stays a number). The same rule as the audit export in
``orgs/views/audit.py`` (kept there as private helpers of that view).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from django.http import HttpResponse

from orgs.csv_safe import csv_safe_cell
from providers.finance.money import plain_decimal

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

Cell = str | int | Decimal | None


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return plain_decimal(value)
    return csv_safe_cell(value)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return codecs.BOM_UTF8 + buffer.getvalue().encode()


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> HttpResponse:
    response = HttpResponse(csv_bytes(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    return response


def safe_filename(name: str) -> str:
    """ASCII letters, digits, dot, dash and underscore only (a header-safe file name)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "export.csv"
