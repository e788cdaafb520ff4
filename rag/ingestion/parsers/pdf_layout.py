"""From PDFium's characters to lines, and from lines to headings and paragraphs.

A PDF has no paragraphs, only positioned glyphs. PDFium gives them in reading
order with the line breaks it inferred; here lines are grouped into paragraphs
where the vertical gap is clearly larger than the page's usual line pitch, and
lines set clearly larger than the document's body text become headings.
Splitting a paragraph too eagerly costs little (the chunker packs consecutive
paragraphs again); merging a heading into its paragraph would lose it.

Characters that fall inside a table found by ``pdf_tables`` are skipped, and the
table's Markdown takes their place in the reading order.
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pypdfium2.raw as pdfium_c

from rag.ingestion.parsers.base import Block

if TYPE_CHECKING:
    import pypdfium2

# A line at least this much larger than body text, and this short, is a heading.
_HEADING_SIZE_RATIO = 1.2
_HEADING_MAX_CHARS = 120
_MAX_HEADING_LEVELS = 3
# A gap this many times the page's usual line pitch starts a new paragraph.
_PARAGRAPH_GAP_RATIO = 1.45


@dataclass(frozen=True, slots=True)
class TableRegion:
    """A table's Markdown and its box in PDF user space (origin bottom left)."""

    markdown: str
    left: float
    bottom: float
    right: float
    top: float

    def contains(self, x: float, y: float) -> bool:
        return self.left <= x <= self.right and self.bottom <= y <= self.top


@dataclass(slots=True)
class TextLine:
    text: str
    size: float
    top: float
    bottom: float


@dataclass(frozen=True, slots=True)
class TableSlot:
    markdown: str


PageItem = TextLine | TableSlot


@dataclass(slots=True)
class _LineBuilder:
    chars: list[str] = field(default_factory=list)
    sizes: list[float] = field(default_factory=list)
    tops: list[float] = field(default_factory=list)
    bottoms: list[float] = field(default_factory=list)

    def take(self) -> TextLine | None:
        text = "".join(self.chars).strip()
        line = None
        if text and self.sizes:
            line = TextLine(
                text=text,
                size=statistics.median(self.sizes),
                top=max(self.tops),
                bottom=min(self.bottoms),
            )
        self.chars, self.sizes, self.tops, self.bottoms = [], [], [], []
        return line


def page_items(textpage: pypdfium2.PdfTextPage, tables: list[TableRegion]) -> list[PageItem]:
    """Lines and table slots of one page, in PDFium's reading order."""
    items: list[PageItem] = []
    emitted: set[int] = set()
    builder = _LineBuilder()
    raw_page = textpage.raw

    def end_line() -> None:
        line = builder.take()
        if line is not None:
            items.append(line)

    count = textpage.count_chars()
    index = 0
    while index < count:
        char, index = _char_at(raw_page, index, count)
        if char == "\n":
            end_line()
            continue
        if char in ("\r", ""):
            continue
        if char.isspace() or pdfium_c.FPDFText_IsGenerated(raw_page, index - 1) == 1:
            builder.chars.append(" " if char.isspace() else char)
            continue
        left, bottom, right, top = textpage.get_charbox(index - 1)
        table = _table_at(tables, (left + right) / 2, (bottom + top) / 2)
        if table is not None:
            if table not in emitted:
                end_line()
                emitted.add(table)
                items.append(TableSlot(tables[table].markdown))
            continue
        builder.chars.append(char)
        builder.sizes.append(float(pdfium_c.FPDFText_GetFontSize(raw_page, index - 1)))
        builder.tops.append(top)
        builder.bottoms.append(bottom)
    end_line()
    # A table whose cells PDFium did not report as text still belongs on the page.
    items.extend(TableSlot(t.markdown) for i, t in enumerate(tables) if i not in emitted)
    return items


def _char_at(raw_page: object, index: int, count: int) -> tuple[str, int]:
    """The character at ``index`` (joining a surrogate pair) and the next index."""
    code = pdfium_c.FPDFText_GetUnicode(raw_page, index)
    if 0xD800 <= code <= 0xDBFF and index + 1 < count:
        low = pdfium_c.FPDFText_GetUnicode(raw_page, index + 1)
        if 0xDC00 <= low <= 0xDFFF:
            return chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)), index + 2
    if 0xD800 <= code <= 0xDFFF:
        return "", index + 1
    return chr(code), index + 1


def _table_at(tables: list[TableRegion], x: float, y: float) -> int | None:
    for index, table in enumerate(tables):
        if table.contains(x, y):
            return index
    return None


def layout_blocks(pages: dict[int, list[PageItem]]) -> dict[int, list[Block]]:
    """Blocks per page number, with heading sizes judged over the whole document."""
    lines = [item for items in pages.values() for item in items if isinstance(item, TextLine)]
    body_size = _body_size(lines)
    levels = _heading_levels(lines, body_size)
    return {
        number: _page_blocks(items, number, body_size, levels) for number, items in pages.items()
    }


def _body_size(lines: list[TextLine]) -> float:
    weights: Counter[float] = Counter()
    for line in lines:
        weights[round(line.size * 2) / 2] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _is_heading_size(line: TextLine, body_size: float) -> bool:
    return (
        body_size > 0
        and line.size >= body_size * _HEADING_SIZE_RATIO
        and len(line.text) <= _HEADING_MAX_CHARS
    )


def _heading_levels(lines: list[TextLine], body_size: float) -> dict[float, int]:
    sizes = sorted(
        {round(line.size * 2) / 2 for line in lines if _is_heading_size(line, body_size)},
        reverse=True,
    )
    return {size: min(rank + 1, _MAX_HEADING_LEVELS) for rank, size in enumerate(sizes)}


def _page_blocks(
    items: list[PageItem], page: int, body_size: float, levels: dict[float, int]
) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[TextLine] = []
    pitch = _usual_pitch([item for item in items if isinstance(item, TextLine)])

    def flush() -> None:
        if paragraph:
            blocks.append(Block(kind="paragraph", text=_join_lines(paragraph), page=page))
            paragraph.clear()

    for item in items:
        if isinstance(item, TableSlot):
            flush()
            blocks.append(Block(kind="table", text=item.markdown, page=page))
        elif _is_heading_size(item, body_size):
            flush()
            level = levels.get(round(item.size * 2) / 2, _MAX_HEADING_LEVELS)
            if blocks and blocks[-1].kind == "heading" and blocks[-1].level == level:
                # A heading wrapped onto two lines.
                previous = blocks.pop()
                item = TextLine(previous.text + " " + item.text, item.size, item.top, item.bottom)
            blocks.append(Block(kind="heading", text=item.text, page=page, level=level))
        else:
            if paragraph and _starts_paragraph(paragraph[-1], item, pitch):
                flush()
            paragraph.append(item)
    flush()
    return blocks


def _usual_pitch(lines: list[TextLine]) -> float:
    """The lower quartile of baseline-to-baseline distances: the page's line pitch."""
    pitches = [a.bottom - b.bottom for a, b in itertools.pairwise(lines)]
    positive = sorted(p for p in pitches if p > 0)
    if not positive:
        return 0.0
    return positive[len(positive) // 4]


def _starts_paragraph(previous: TextLine, line: TextLine, pitch: float) -> bool:
    step = previous.bottom - line.bottom
    if step <= 0:
        return True  # moved up or sideways: a new column or a new text box
    if abs(line.size - previous.size) > 0.15 * max(line.size, previous.size):
        return True
    return pitch > 0 and step > _PARAGRAPH_GAP_RATIO * pitch


def _join_lines(lines: list[TextLine]) -> str:
    """One paragraph's lines; a Latin word hyphenated across lines is rejoined."""
    text = lines[0].text
    for line in lines[1:]:
        if text.endswith("-") and len(text) > 1 and text[-2].isascii() and text[-2].isalpha():
            text = text[:-1] + line.text
        else:
            text = text + " " + line.text
    return text
