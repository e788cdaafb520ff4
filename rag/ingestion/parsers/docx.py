"""Word (.docx) through python-docx (MIT): body paragraphs and tables in document order.

Headings come from the paragraph style (``Heading 1`` .. ``Heading 9``, ``Title``,
and the Korean names ``제목 1`` .. that Korean templates store) or from an
outline level set on the paragraph or its style. Numbered and bulleted
paragraphs are gathered into list blocks. Headers, footers, comments and text
boxes are not read.

Pages: a .docx has no fixed pages, but Word records where pages broke when it
last laid the file out (``w:lastRenderedPageBreak``). When such marks exist, each
block gets the page it starts on; files never opened in Word get no pages.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import docx
from docx.opc.exceptions import OpcError
from docx.oxml.ns import qn
from docx.styles.style import CharacterStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from rag.errors import CorruptDocument
from rag.ingestion.parsers.base import Block, ParsedDocument, ParseLimits
from rag.ingestion.parsers.containers import check_zip_container
from rag.ingestion.parsers.markdown_table import rows_to_markdown

if TYPE_CHECKING:
    from docx.document import Document
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.styles.style import BaseStyle

_HEADING_STYLE = re.compile(r"^(?:heading|제목)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLES = frozenset({"title", "제목"})
_LIST_STYLE = re.compile(r"^(?:list|목록)", re.IGNORECASE)
_P, _TBL, _SDT, _SDT_CONTENT = qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")
# Styles based on styles: a bound against cycles in a hand-edited file.
_MAX_STYLE_DEPTH = 10
_PAGE_MARK, _T = qn("w:lastRenderedPageBreak"), qn("w:t")


class DocxParser:
    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        check_zip_container(data, limits)
        try:
            document = docx.Document(io.BytesIO(data))
            return _Walker(document).parse()
        except (
            OpcError,
            KeyError,
            ValueError,
            SyntaxError,
            EOFError,
            NotImplementedError,
            zipfile.BadZipFile,
            zlib.error,
        ) as exc:
            raise CorruptDocument("The Word file is damaged and cannot be read.") from exc


class _Walker:
    """One pass over the body, tracking the rendered page and open list."""

    def __init__(self, document: Document) -> None:
        self.document = document
        body = document.element.body
        self.paged = next(body.iter(_PAGE_MARK), None) is not None
        self.page = 1
        self.blocks: list[Block] = []
        self.list_lines: list[str] = []
        self.list_page: int | None = None

    def parse(self) -> ParsedDocument:
        for element in _body_elements(self.document.element.body):
            if element.tag == _P:
                self._paragraph(Paragraph(element, self.document))
            else:
                self._table(Table(element, self.document))
        self._close_list()
        return ParsedDocument(blocks=self.blocks, page_count=self.page if self.paged else None)

    def _current_page(self) -> int | None:
        return self.page if self.paged else None

    def _paragraph(self, paragraph: Paragraph) -> None:
        before, after = _page_breaks(paragraph._p)
        self.page += before
        text = paragraph.text
        if text.strip():
            self._emit_paragraph(paragraph, text)
        self.page += after

    def _emit_paragraph(self, paragraph: Paragraph, text: str) -> None:
        style = paragraph.style
        level = _heading_level(paragraph._p, style)
        if level is not None:
            self._close_list()
            self.blocks.append(
                Block(kind="heading", text=text, page=self._current_page(), level=level)
            )
            return
        list_level = _list_level(paragraph._p, style)
        if list_level is not None:
            if not self.list_lines:
                self.list_page = self._current_page()
            self.list_lines.append("  " * list_level + "- " + text.replace("\n", " "))
            return
        self._close_list()
        self.blocks.append(Block(kind="paragraph", text=text, page=self._current_page()))

    def _table(self, table: Table) -> None:
        self._close_list()
        rows = [_row_texts(row.cells, self.document) for row in table.rows]
        markdown = rows_to_markdown(rows)
        if markdown:
            self.blocks.append(Block(kind="table", text=markdown, page=self._current_page()))
        self.page += sum(1 for _ in table._tbl.iter(_PAGE_MARK))

    def _close_list(self) -> None:
        if self.list_lines:
            self.blocks.append(
                Block(kind="list", text="\n".join(self.list_lines), page=self.list_page)
            )
            self.list_lines = []


def _body_elements(parent: BaseOxmlElement) -> Iterator[BaseOxmlElement]:
    """Paragraphs and tables in order, looking inside content controls (``w:sdt``)."""
    for child in parent.iterchildren():
        if child.tag in (_P, _TBL):
            yield child
        elif child.tag == _SDT:
            for content in child.iterchildren(_SDT_CONTENT):
                yield from _body_elements(content)


def _page_breaks(p: BaseOxmlElement) -> tuple[int, int]:
    """Rendered page breaks before the paragraph's first text, and after it."""
    before = after = 0
    seen_text = False
    for element in p.iter(_PAGE_MARK, _T):
        if element.tag == _T:
            seen_text = seen_text or bool(element.text)
        elif seen_text:
            after += 1
        else:
            before += 1
    return before, after


def _row_texts(cells: list[_Cell], document: Document) -> list[str]:
    """Cell texts of one row; a cell merged across columns keeps its text once."""
    texts: list[str] = []
    previous = None
    for cell in cells:
        if previous is not None and cell._tc is previous:
            texts.append("")
            continue
        previous = cell._tc
        # All paragraphs under the cell, so nested tables are flattened into it.
        paragraphs = (Paragraph(p, document).text for p in cell._tc.iter(_P))
        texts.append(" ".join(text for text in paragraphs if text.strip()))
    return texts


def _heading_level(p: BaseOxmlElement, style: BaseStyle | None) -> int | None:
    name = (style.name or "").strip() if style is not None else ""
    match = _HEADING_STYLE.match(name)
    if match:
        return int(match.group(1))
    if name.lower() in _TITLE_STYLES:
        return 1
    outline = _outline_level(p, style)
    return outline + 1 if outline is not None and outline < 9 else None


def _outline_level(p: BaseOxmlElement, style: BaseStyle | None) -> int | None:
    """``w:outlineLvl`` on the paragraph, else on its style or the styles it is based on."""
    elements: list[BaseOxmlElement] = [p]
    seen = 0
    current = style if isinstance(style, CharacterStyle) else None
    while current is not None and seen < _MAX_STYLE_DEPTH:
        elements.append(current.element)
        current = current.base_style
        seen += 1
    for element in elements:
        values = element.xpath("./w:pPr/w:outlineLvl/@w:val")
        if values:
            try:
                return int(values[0])
            except ValueError:
                return None
    return None


def _list_level(p: BaseOxmlElement, style: BaseStyle | None) -> int | None:
    levels = p.xpath("./w:pPr/w:numPr/w:ilvl/@w:val")
    numbering = p.xpath("./w:pPr/w:numPr/w:numId/@w:val")
    # numId 0 switches numbering off for a paragraph whose style has it.
    if numbering and numbering[0] != "0":
        try:
            return min(int(levels[0]), 8) if levels else 0
        except ValueError:
            return 0
    name = (style.name or "") if style is not None else ""
    return 0 if _LIST_STYLE.match(name) else None
