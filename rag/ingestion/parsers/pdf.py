"""PDF through PDFium (pypdfium2: Apache-2.0 / BSD-3-Clause), tables through pdfplumber.

PyMuPDF is not used: it is AGPL. Per page: PDFium's text, shaped into headings
and paragraphs by ``pdf_layout``; ruled tables as Markdown from ``pdf_tables``.
A page with (almost) no text but with an image on it is a scan: it is rendered
at 300 dpi and read by OCR when OCR is available. Otherwise a warning lists the
pages left unread, and a scanned PDF with no readable text at all raises
``OcrUnavailable`` (or ``OcrFailed`` when tesseract ran but failed).

A PDF protected by a user password raises ``PasswordProtected``. One with only
an owner password (printing or copying restricted) opens without one and is read.

PDFium is not thread-safe: run one parse per process at a time (Celery's
prefork workers do).
"""

from __future__ import annotations

import pypdfium2
import pypdfium2.raw as pdfium_c

from rag.errors import (
    CorruptDocument,
    DocumentTooLarge,
    OcrFailed,
    OcrUnavailable,
    PasswordProtected,
)
from rag.ingestion.parsers.base import Block, ParsedDocument, ParseLimits
from rag.ingestion.parsers.ocr import ocr_image, require_ocr, text_blocks
from rag.ingestion.parsers.pdf_layout import (
    PageItem,
    TableRegion,
    TextLine,
    layout_blocks,
    page_items,
)
from rag.ingestion.parsers.pdf_tables import PdfTableFinder

# Fewer visible characters than this on a page with an image: treat as scanned.
SCAN_TEXT_THRESHOLD = 20
OCR_DPI = 300
# Keep rendered pages at a sane size whatever the page format (a poster, a banner).
_MAX_RENDER_SIDE_PX = 6000
_PASSWORD_ERRORS = frozenset({pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY})


class PdfParser:
    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        try:
            document = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as exc:
            if getattr(exc, "err_code", None) in _PASSWORD_ERRORS:
                raise PasswordProtected(
                    "The PDF is protected with a password; remove the password and upload it again."
                ) from exc
            raise CorruptDocument("The PDF is damaged and cannot be read.") from exc
        try:
            return _parse_document(document, data, limits)
        except pypdfium2.PdfiumError as exc:
            raise CorruptDocument("The PDF is damaged and cannot be read.") from exc
        finally:
            document.close()


def _parse_document(
    document: pypdfium2.PdfDocument, data: bytes, limits: ParseLimits
) -> ParsedDocument:
    page_count = len(document)
    if page_count == 0:
        raise CorruptDocument("The PDF has no pages.")
    if page_count > limits.max_pages:
        raise DocumentTooLarge(
            f"The PDF has {page_count} pages; the limit is {limits.max_pages}.",
            unit="pages",
            limit=limits.max_pages,
            actual=page_count,
        )
    warnings: list[str] = []
    text_pages: dict[int, list[PageItem]] = {}
    scanned: list[int] = []
    with PdfTableFinder(data) as finder:
        for index in range(page_count):
            items, has_image = _read_page(document[index], index, finder, warnings)
            visible = sum(len(i.text.replace(" ", "")) for i in items if isinstance(i, TextLine))
            if visible < SCAN_TEXT_THRESHOLD and has_image:
                scanned.append(index + 1)
            text_pages[index + 1] = items
    ocr_pages = _ocr_pages(document, scanned, limits, warnings)
    laid_out = layout_blocks(text_pages)
    blocks: list[Block] = []
    for number in range(1, page_count + 1):
        # A scan with a few characters of text layer (a stamp, a page number) is
        # better read by OCR; if OCR found nothing, keep those characters.
        blocks.extend(ocr_pages.get(number) or laid_out.get(number, []))
    if scanned and not ocr_pages and not any(block.text.strip() for block in blocks):
        # Nothing to index: say why instead of returning an empty document.
        require_ocr(limits)
        raise OcrFailed("OCR could not read the scanned pages of the PDF.")
    return ParsedDocument(
        blocks=blocks, page_count=page_count, ocr_used=bool(ocr_pages), warnings=warnings
    )


def _read_page(
    page: pypdfium2.PdfPage, index: int, finder: PdfTableFinder, warnings: list[str]
) -> tuple[list[PageItem], bool]:
    """The page's lines and tables, and whether it shows an image."""
    textpage = page.get_textpage()
    try:
        tables: list[TableRegion] = []
        if _has_object(page, pdfium_c.FPDF_PAGEOBJ_PATH):
            found = finder.tables(index, page.get_mediabox()[3])
            if found is None:
                warnings.append(f"Tables on page {index + 1} could not be detected.")
            else:
                tables = found
        return page_items(textpage, tables), _has_object(page, pdfium_c.FPDF_PAGEOBJ_IMAGE)
    finally:
        textpage.close()
        page.close()


def _has_object(page: pypdfium2.PdfPage, object_type: int) -> bool:
    """True if the page (or a form on it) holds an object of ``object_type``."""
    objects = page.get_objects(filter=(object_type,), max_depth=3)
    return next(objects, None) is not None


def _ocr_pages(
    document: pypdfium2.PdfDocument, pages: list[int], limits: ParseLimits, warnings: list[str]
) -> dict[int, list[Block]]:
    """OCR blocks of the scanned ``pages``; a page OCR could not read gets a warning."""
    if not pages:
        return {}
    try:
        require_ocr(limits)
    except OcrUnavailable as exc:
        warnings.append(f"{exc.message} Pages without a text layer: {_page_list(pages)}.")
        return {}
    limits.ocr_starting()
    result: dict[int, list[Block]] = {}
    for number in pages:
        page = document[number - 1]
        try:
            width, height = page.get_size()
            scale = min(OCR_DPI / 72, _MAX_RENDER_SIDE_PX / max(width, height, 1))
            image = page.render(scale=scale, grayscale=True).to_pil()
        finally:
            page.close()
        try:
            result[number] = text_blocks(
                ocr_image(image, timeout=limits.ocr_timeout_seconds), page=number
            )
        except OcrFailed as exc:
            warnings.append(f"Page {number}: {exc.message}")
    return result


def _page_list(pages: list[int]) -> str:
    shown = ", ".join(str(p) for p in pages[:20])
    return shown + (f" and {len(pages) - 20} more" if len(pages) > 20 else "")
