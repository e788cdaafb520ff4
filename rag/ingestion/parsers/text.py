"""Plain text, Markdown and CSV. Encodings: see ``text_decoding``.

Markdown is read line by line, not rendered: ATX (``#``) and setext headings,
fenced code, pipe tables, lists and paragraphs separated by blank lines. Inline
markup stays as written, which is what a reader of the source sees. Plain text
is split into paragraphs at blank lines. A CSV file becomes one table.
"""

from __future__ import annotations

import csv
import io
import re

from rag.ingestion.parsers.base import Block, ParsedDocument, ParseLimits
from rag.ingestion.parsers.markdown_table import rows_to_markdown
from rag.ingestion.parsers.text_decoding import decode_text

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_TABLE_ROW = re.compile(r"^ {0,3}\|")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


class PlainTextParser:
    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        decoded = decode_text(data)
        paragraphs = _BLANK_LINES.split(decoded.text.replace("\r\n", "\n"))
        blocks = [Block(kind="paragraph", text=p) for p in paragraphs if p.strip()]
        warnings = [decoded.warning] if decoded.warning else []
        return ParsedDocument(blocks=blocks, page_count=None, warnings=warnings)


class CsvParser:
    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        decoded = decode_text(data)
        warnings = [decoded.warning] if decoded.warning else []
        text = decoded.text
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], ",;\t|")
        except csv.Error:
            dialect = csv.excel
        rows: list[list[str]] = []
        for row in csv.reader(io.StringIO(text), dialect):
            if len(rows) > limits.max_table_rows:
                warnings.append(
                    f"The file has more than {limits.max_table_rows} rows; the rest was not read."
                )
                break
            rows.append(row)
        markdown = rows_to_markdown(rows)
        blocks = [Block(kind="table", text=markdown)] if markdown else []
        return ParsedDocument(blocks=blocks, page_count=None, warnings=warnings)


class MarkdownParser:
    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        decoded = decode_text(data)
        warnings = [decoded.warning] if decoded.warning else []
        lines = decoded.text.replace("\r\n", "\n").split("\n")
        return ParsedDocument(blocks=markdown_blocks(lines), page_count=None, warnings=warnings)


def markdown_blocks(lines: list[str]) -> list[Block]:
    """Blocks of a Markdown source, in order."""
    blocks: list[Block] = []
    pending: list[str] = []
    index = 0

    def flush() -> None:
        if pending:
            blocks.append(_text_block(pending))
            pending.clear()

    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        atx = _ATX.match(line)
        if fence:
            flush()
            index = _read_fence(lines, index, fence.group(1), blocks)
            continue
        if atx:
            flush()
            if atx.group(2):
                blocks.append(Block(kind="heading", text=atx.group(2), level=len(atx.group(1))))
        elif pending and _SETEXT.match(line) and not _is_special(pending):
            level = 1 if line.strip().startswith("=") else 2
            blocks.append(Block(kind="heading", text=" ".join(pending).strip(), level=level))
            pending.clear()
        elif not line.strip():
            flush()
        elif pending and _starts_new_block(line, pending[0]):
            flush()
            pending.append(line)
        else:
            pending.append(line)
        index += 1
    flush()
    return blocks


def _read_fence(lines: list[str], start: int, marker: str, blocks: list[Block]) -> int:
    """Append the code block opened at ``start``; return the index after its closing fence."""
    body: list[str] = []
    index = start + 1
    while index < len(lines):
        if lines[index].strip().startswith(marker[0] * len(marker)) and not lines[index].strip(
            marker[0] + " \t"
        ):
            index += 1
            break
        body.append(lines[index])
        index += 1
    if any(line.strip() for line in body):
        blocks.append(Block(kind="code", text="\n".join(body)))
    return index


def _kind_of(line: str) -> str:
    if _TABLE_ROW.match(line):
        return "table"
    if _LIST_ITEM.match(line):
        return "list"
    return "paragraph"


def _starts_new_block(line: str, first: str) -> bool:
    """A line of another kind ends the block, except an indented list continuation."""
    if _kind_of(first) == "list" and line[:1] in (" ", "\t"):
        return False
    return _kind_of(line) != _kind_of(first)


def _is_special(pending: list[str]) -> bool:
    return _kind_of(pending[0]) != "paragraph"


def _text_block(lines: list[str]) -> Block:
    kind = _kind_of(lines[0])
    if kind == "table":
        return Block(kind="table", text=_normalise_table(lines))
    if kind == "list":
        return Block(kind="list", text="\n".join(line.rstrip() for line in lines))
    return Block(kind="paragraph", text="\n".join(line.strip() for line in lines))


def _normalise_table(lines: list[str]) -> str:
    """Re-render a pipe table so every table block has the same shape."""
    rows: list[list[str]] = []
    for line in lines:
        cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        if all(re.fullmatch(r"\s*:?-{1,}:?\s*", cell) for cell in cells):
            continue
        rows.append([cell.strip().replace("\\|", "|") for cell in cells])
    return rows_to_markdown(rows)
