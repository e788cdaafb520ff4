"""Ruled tables in PDFs through pdfplumber (MIT, on pdfminer.six, MIT).

pdfplumber finds tables from the lines drawn around cells. It parses the page a
second time, in pure Python, so it is asked only about pages that PDFium shows
to contain vector paths; a page of plain text never has a ruled table. A table
needs at least two rows and two columns: a single ruled box is a frame around
text, which PDFium already reads.

Table detection is an enhancement of the text, not the text itself: if pdfminer
cannot parse a page that PDFium read, the page keeps its plain text and the
result carries a warning.
"""

from __future__ import annotations

import io
import logging
import struct
import zlib
from types import TracebackType
from typing import TYPE_CHECKING

import pdfplumber
from pdfminer.psexceptions import PSException
from pdfplumber.utils.exceptions import MalformedPDFException, PdfminerException

from rag.ingestion.parsers.markdown_table import rows_to_markdown
from rag.ingestion.parsers.pdf_layout import TableRegion

if TYPE_CHECKING:
    from pdfplumber.pdf import PDF

logger = logging.getLogger(__name__)

_PDFMINER_ERRORS = (
    PSException,
    PdfminerException,
    MalformedPDFException,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    AssertionError,
    struct.error,
    zlib.error,
)


class PdfTableFinder:
    """Opens the PDF in pdfplumber on first use; close it with ``with``."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pdf: PDF | None = None
        self._broken = False

    def __enter__(self) -> PdfTableFinder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._pdf is not None:
            self._pdf.close()

    def tables(self, page_index: int, page_top: float) -> list[TableRegion] | None:
        """Tables on page ``page_index`` (0-based), or ``None`` if pdfminer failed.

        ``page_top`` is the top of the page's media box in PDF user space, to turn
        pdfplumber's top-down coordinates into PDFium's bottom-up ones.
        """
        if self._broken:
            return None
        try:
            if self._pdf is None:
                self._pdf = pdfplumber.open(io.BytesIO(self._data))
            page = self._pdf.pages[page_index]
            regions: list[TableRegion] = []
            for table in page.find_tables():
                rows = [[cell or "" for cell in row] for row in table.extract()]
                if len(rows) < 2 or max((len(row) for row in rows), default=0) < 2:
                    continue
                markdown = rows_to_markdown(rows)
                if not markdown:
                    continue
                x0, top, x1, bottom = table.bbox
                regions.append(
                    TableRegion(
                        markdown=markdown,
                        left=float(x0),
                        bottom=page_top - float(bottom),
                        right=float(x1),
                        top=page_top - float(top),
                    )
                )
            page.close()
        except _PDFMINER_ERRORS:
            logger.info(
                "pdfminer could not parse page %d for tables", page_index + 1, exc_info=True
            )
            if self._pdf is None:
                self._broken = True
            return None
        return regions
