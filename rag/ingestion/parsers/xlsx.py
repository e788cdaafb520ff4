"""Excel (.xlsx, .xlsm) through openpyxl (MIT), streaming (``read_only``).

Each visible or hidden worksheet becomes a level-1 heading (the sheet name) and
one Markdown table whose first non-empty row is the header. Formula cells give
the value Excel last computed (``data_only``); a file written by a program that
never computed them yields empty cells there. Rows past
``ParseLimits.max_table_rows`` per sheet are dropped with a warning. Empty rows
and trailing empty columns are dropped, and
columns past ``MAX_COLUMNS`` are not read. Chart sheets have no cells and are skipped.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
import zlib
from collections.abc import Iterable

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from rag.errors import CorruptDocument
from rag.ingestion.parsers.base import Block, ParsedDocument, ParseLimits
from rag.ingestion.parsers.containers import check_zip_container
from rag.ingestion.parsers.markdown_table import rows_to_markdown

CellValue = object
# Wider sheets are rare in documents meant for reading; past this, cells are dropped.
MAX_COLUMNS = 200


class XlsxParser:
    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        check_zip_container(data, limits)
        blocks: list[Block] = []
        warnings: list[str] = []
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                for sheet in workbook.worksheets:
                    rows, truncated = _sheet_rows(
                        sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), limits
                    )
                    if truncated:
                        warnings.append(
                            f"Sheet {sheet.title!r} has more than {limits.max_table_rows} rows; "
                            "the rest was not read."
                        )
                    markdown = rows_to_markdown(rows)
                    if markdown:
                        blocks.append(Block(kind="heading", text=str(sheet.title), level=1))
                        blocks.append(Block(kind="table", text=markdown))
            finally:
                workbook.close()
        except (
            InvalidFileException,
            KeyError,
            ValueError,
            TypeError,
            SyntaxError,
            EOFError,
            NotImplementedError,
            zipfile.BadZipFile,
            zlib.error,
        ) as exc:
            raise CorruptDocument("The Excel file is damaged and cannot be read.") from exc
        return ParsedDocument(blocks=blocks, page_count=None, warnings=warnings)


def _sheet_rows(
    rows: Iterable[tuple[CellValue, ...]], limits: ParseLimits
) -> tuple[list[list[str]], bool]:
    """Non-empty rows as text, at most ``max_table_rows`` of them, and whether any were cut."""
    kept: list[list[str]] = []
    for values in rows:
        texts = [_cell_text(value) for value in values]
        if not any(texts):
            continue
        if len(kept) >= limits.max_table_rows:
            return _trim_columns(kept), True
        kept.append(texts)
    return _trim_columns(kept), False


def _trim_columns(rows: list[list[str]]) -> list[list[str]]:
    width = max((i + 1 for row in rows for i, text in enumerate(row) if text), default=0)
    return [row[:width] for row in rows]


def _cell_text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes") if value.time() else str(value.date())
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
