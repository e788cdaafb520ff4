"""Document parsers behind one entry point, ``parse_document`` (R6).

``PARSERS`` maps each format that ``detect_format`` can return to the dotted path
of its parser class; a parser module (and the library it wraps) is imported the
first time a document of that format arrives, so a worker that never sees a PDF
never loads PDFium.

Adding a format: write ``<format>.py`` with a class whose ``parse`` method follows
``base.Parser`` and raises only ``rag.errors.DocumentError`` subclasses; teach
``detection.detect_format`` to recognise it; add it here; add a sample and tests
in ``tests/rag/test_parsers.py``.
"""

from __future__ import annotations

from importlib import import_module
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from rag.errors import DocumentTooLarge, UnsupportedFormat
from rag.ingestion.parsers.base import Block, ParsedDocument, ParseLimits
from rag.ingestion.parsers.cleanup import clean_blocks
from rag.ingestion.parsers.detection import detect_format

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rag.ingestion.parsers.base import Parser

__all__ = ["PARSERS", "Block", "ParseLimits", "ParsedDocument", "detect_format", "parse_document"]

PARSERS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "pdf": "rag.ingestion.parsers.pdf.PdfParser",
        "docx": "rag.ingestion.parsers.docx.DocxParser",
        "pptx": "rag.ingestion.parsers.pptx.PptxParser",
        "xlsx": "rag.ingestion.parsers.xlsx.XlsxParser",
        "hwp": "rag.ingestion.parsers.hwp.HwpParser",
        "hwpx": "rag.ingestion.parsers.hwp.HwpParser",
        "image": "rag.ingestion.parsers.image.ImageParser",
        "html": "rag.ingestion.parsers.html.HtmlParser",
        "markdown": "rag.ingestion.parsers.text.MarkdownParser",
        "text": "rag.ingestion.parsers.text.PlainTextParser",
        "csv": "rag.ingestion.parsers.text.CsvParser",
    }
)


def parser_for(fmt: str) -> Parser:
    """A parser instance for ``fmt``, importing its module on first use."""
    try:
        dotted = PARSERS[fmt]
    except KeyError:
        raise UnsupportedFormat(f"The format {fmt!r} is not supported.") from None
    module_name, _, class_name = dotted.rpartition(".")
    parser_class: type[Parser] = getattr(import_module(module_name), class_name)
    return parser_class()


def parse_document(data: bytes, filename: str, limits: ParseLimits) -> ParsedDocument:
    """The text of one uploaded file, all of it, or a ``DocumentError``.

    Checks the size, detects the format from the bytes (the name only decides
    between text formats), parses, then cleans every block (NFC, no private-use
    or control characters) and drops empty ones. Never returns a partial result.
    """
    if len(data) > limits.max_bytes:
        raise DocumentTooLarge(
            f"The file is {len(data)} bytes; the limit is {limits.max_bytes}.",
            unit="bytes",
            limit=limits.max_bytes,
            actual=len(data),
        )
    fmt = detect_format(data, filename)
    parsed = parser_for(fmt).parse(data, filename=filename, limits=limits)
    parsed.blocks = clean_blocks(parsed.blocks)
    return parsed
