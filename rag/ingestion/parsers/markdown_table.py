"""Tables as GitHub-flavoured Markdown, the one table format every parser emits.

The first row is the header. Each row is one line, so the chunker can split a
large table by lines and repeat the first two (header and separator).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WHITESPACE = re.compile(r"\s+")


def markdown_cell(value: str) -> str:
    """One cell's text on one line, with ``|`` escaped."""
    return _WHITESPACE.sub(" ", value).strip().replace("|", "\\|")


def rows_to_markdown(rows: Sequence[Sequence[str]]) -> str:
    """Render ``rows`` (first row = header) as a Markdown table; ``""`` when empty.

    Ragged rows are padded to the widest row; rows with no text are dropped.
    """
    cleaned = [[markdown_cell(cell) for cell in row] for row in rows]
    cleaned = [row for row in cleaned if any(row)]
    if not cleaned:
        return ""
    width = max(len(row) for row in cleaned)
    padded = [row + [""] * (width - len(row)) for row in cleaned]
    lines = ["| " + " | ".join(padded[0]) + " |", "|" + " --- |" * width]
    lines.extend("| " + " | ".join(row) + " |" for row in padded[1:])
    return "\n".join(lines)
