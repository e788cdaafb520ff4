"""The parser contract: bytes in, typed blocks out, or a typed ``DocumentError``.

A parser is all or nothing. It returns the whole document or raises one of the
errors in ``rag.errors``; it never returns half a document, so the pipeline never
indexes half a document. Anything it had to skip while still producing a usable
result (a sheet cut at the row limit, a page without text and without OCR) is
listed in ``ParsedDocument.warnings``, in plain English, for the operator.

Parsers are pure: no database, no Django settings, no network. OCR runs the
``tesseract`` program in a subprocess (see ``ocr.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

BlockKind = Literal["heading", "paragraph", "table", "list", "code"]


@dataclass(frozen=True, slots=True)
class Block:
    """One structural unit of a document, in reading order.

    ``text`` is plain text, except for tables, which are GitHub-flavoured Markdown
    (header row, ``| --- |`` separator, one line per row), and lists, which hold one
    ``- item`` line per item. ``page`` is 1-based where the format has pages (PDF,
    slides, images, Word files last laid out by Word) and ``None`` elsewhere.
    ``level`` is the heading level (1 = top) for headings and ``None`` otherwise.
    """

    kind: BlockKind
    text: str
    page: int | None = None
    level: int | None = None


@dataclass(slots=True)
class ParsedDocument:
    """The text of one document. ``page_count`` is ``None`` for formats without pages."""

    blocks: list[Block]
    page_count: int | None
    ocr_used: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ParseLimits:
    """Limits a parser enforces before doing expensive work.

    ``max_bytes`` caps the upload; ``max_pages`` caps PDF pages, slides and image
    frames; ``max_table_rows`` caps the rows read per spreadsheet sheet or CSV (the
    rest is dropped with a warning); ``max_unpacked_bytes`` caps what a ZIP-based
    file (DOCX, PPTX, XLSX, HWPX) may inflate to, against decompression bombs.
    ``ocr_enabled`` false behaves as if tesseract were missing (the platform's
    ``OCR_ENABLED`` setting is passed in here by the caller).
    """

    max_bytes: int
    max_pages: int
    max_table_rows: int = 5_000
    max_unpacked_bytes: int = 512 * 1024 * 1024
    ocr_enabled: bool = True
    ocr_timeout_seconds: float = 120.0
    # Called once, when a parser starts reading pages with OCR (the slow part), so the
    # caller can show it; not a limit, but it travels with what the parser is given.
    on_ocr: Callable[[], None] | None = None

    def ocr_starting(self) -> None:
        if self.on_ocr is not None:
            self.on_ocr()


class Parser(Protocol):
    """One document format. Raises ``rag.errors.DocumentError`` subclasses only."""

    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument: ...
