"""Text cells for CSV files people open in spreadsheets: a cell that starts like a
formula is prefixed with a quote, so it is shown, never run (CSV injection)."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe_cell(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
