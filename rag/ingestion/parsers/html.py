"""HTML through the standard library's tolerant ``html.parser``.

Kept: headings, paragraphs and other block text, lists (nested by indentation),
tables (as Markdown; a table nested in a cell is flattened into that cell) and
``<pre>`` as code. Dropped: ``<script>``, ``<style>``, ``<noscript>``,
``<template>``, ``<title>``, ``<nav>``, embedded objects and SVG. The charset
comes from a BOM, the ``<meta>`` declaration, UTF-8 or CP949, in that order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from rag.ingestion.parsers.base import Block, ParsedDocument, ParseLimits
from rag.ingestion.parsers.markdown_table import rows_to_markdown
from rag.ingestion.parsers.text_decoding import decode_text

_SKIPPED = frozenset(
    {"script", "style", "noscript", "template", "title", "nav", "svg", "iframe", "object", "canvas"}
)
_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
        "address", "figure", "figcaption", "form", "fieldset", "details", "summary", "dl", "dt",
        "dd", "hr", "body", "center",
    }
)  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


class HtmlParser:
    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        match = _CHARSET.search(data[:4096])
        declared = match.group(1).decode("ascii") if match else None
        decoded = decode_text(data, declared=declared)
        extractor = _BlockExtractor()
        extractor.feed(decoded.text)
        extractor.close()
        warnings = [decoded.warning] if decoded.warning else []
        return ParsedDocument(blocks=extractor.finish(), page_count=None, warnings=warnings)


@dataclass
class _Table:
    rows: list[list[str]] = field(default_factory=list)
    row: list[str] | None = None
    cell: list[str] | None = None


class _BlockExtractor(HTMLParser):
    """Collects blocks while the tags stream by; tolerant of unclosed tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.text: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.heading: int | None = None
        self.lists: list[str] = []
        self.list_lines: list[str] = []
        self.tables: list[_Table] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skip_depth += 1
        elif self.skip_depth:
            return
        elif self.tables and len(self.tables) > 1:
            self._nested_table_tag(tag)
        elif tag == "table":
            self._flush()
            self.tables.append(_Table())
        elif self.tables and tag in ("tr", "td", "th"):
            self._table_tag(tag)
        elif tag == "br":
            self._sink().append("\n")
        elif tag in _HEADINGS:
            self._flush()
            self.heading = _HEADINGS[tag]
        elif tag in ("ul", "ol"):
            self._flush()
            self.lists.append(tag)
        elif tag == "li":
            self._flush()
        elif tag == "pre":
            self._flush()
            self.pre_depth += 1
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif self.skip_depth:
            return
        elif tag == "table" and self.tables:
            self._end_table()
        elif self.tables and len(self.tables) > 1:
            self._nested_table_tag(tag)
        elif self.tables and tag in ("tr", "td", "th"):
            self._close_cell()
            if tag == "tr":
                self._close_row()
        elif tag in _HEADINGS or tag == "li" or tag in _BLOCKS:
            self._flush()
        elif tag in ("ul", "ol") and self.lists:
            self._flush()
            self.lists.pop()
            if not self.lists:
                self._emit_list()
        elif tag == "pre" and self.pre_depth:
            self._flush()
            self.pre_depth -= 1

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        self._sink().append(data if self.pre_depth else _SPACES.sub(" ", data))

    def finish(self) -> list[Block]:
        while self.tables:
            self._end_table()
        self._flush()
        self.lists.clear()
        self._emit_list()
        return self.blocks

    def _sink(self) -> list[str]:
        table = self.tables[0] if self.tables else None
        if table is not None and table.cell is not None:
            return table.cell
        return self.text

    def _table_tag(self, tag: str) -> None:
        table = self.tables[-1]
        self._close_cell()
        if tag == "tr":
            self._close_row()
            table.row = []
        else:
            if table.row is None:
                table.row = []
            table.cell = []

    def _nested_table_tag(self, tag: str) -> None:
        """Inside a nested table only the separation of its cells survives."""
        if tag in ("td", "th", "tr", "br", "li", "p", "div"):
            self._sink().append(" ")
        elif tag == "table":
            self.tables.append(_Table())

    def _close_cell(self) -> None:
        table = self.tables[-1]
        if table.cell is not None:
            if table.row is None:
                table.row = []
            table.row.append("".join(table.cell))
            table.cell = None

    def _close_row(self) -> None:
        table = self.tables[-1]
        if table.row:
            table.rows.append(table.row)
        table.row = None

    def _end_table(self) -> None:
        if len(self.tables) > 1:
            self.tables.pop()
            self._sink().append(" ")
            return
        self._close_cell()
        self._close_row()
        markdown = rows_to_markdown(self.tables.pop().rows)
        if markdown:
            self._emit_list()
            self.blocks.append(Block(kind="table", text=markdown))

    def _flush(self) -> None:
        """Turn the pending inline text into a heading, list item, code or paragraph."""
        raw = "".join(self.text)
        self.text = []
        if self.pre_depth:
            text = raw.strip("\n")
        else:
            text = "\n".join(line.strip() for line in raw.split("\n") if line.strip())
        heading, self.heading = self.heading, None
        if not text.strip():
            return
        if self.lists and heading is None and not self.pre_depth:
            indent = "  " * (len(self.lists) - 1)
            self.list_lines.append(indent + "- " + text.replace("\n", " "))
            return
        self._emit_list()
        if self.pre_depth:
            self.blocks.append(Block(kind="code", text=text))
        elif heading is not None:
            self.blocks.append(Block(kind="heading", text=text.replace("\n", " "), level=heading))
        else:
            self.blocks.append(Block(kind="paragraph", text=text))

    def _emit_list(self) -> None:
        if self.list_lines and not self.lists:
            self.blocks.append(Block(kind="list", text="\n".join(self.list_lines)))
            self.list_lines = []
