"""PowerPoint (.pptx) through python-pptx (MIT). Each slide is a page.

Per slide, in reading order: the title as a level-1 heading, then text boxes,
placeholders and tables ordered top to bottom, left to right (shape order in the
file is drawing order, not reading order), then the speaker notes. Bulleted body
placeholders become list blocks. Footers, dates and slide numbers are skipped;
pictures and charts have no text to read.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import pptx
from pptx.enum.shapes import PP_PLACEHOLDER
from pptx.exc import PythonPptxError
from pptx.shapes.autoshape import Shape
from pptx.shapes.graphfrm import GraphicFrame
from pptx.shapes.group import GroupShape

from rag.errors import CorruptDocument, DocumentTooLarge
from rag.ingestion.parsers.base import Block, ParsedDocument, ParseLimits
from rag.ingestion.parsers.containers import check_zip_container
from rag.ingestion.parsers.markdown_table import rows_to_markdown

if TYPE_CHECKING:
    from pptx.shapes.base import BaseShape
    from pptx.slide import Slide

_TITLES = frozenset({PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE})
_SKIPPED = frozenset(
    {PP_PLACEHOLDER.DATE, PP_PLACEHOLDER.FOOTER, PP_PLACEHOLDER.SLIDE_NUMBER, PP_PLACEHOLDER.HEADER}
)
_BULLETED = frozenset({PP_PLACEHOLDER.BODY, PP_PLACEHOLDER.OBJECT, PP_PLACEHOLDER.VERTICAL_BODY})


class PptxParser:
    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        check_zip_container(data, limits)
        try:
            presentation = pptx.Presentation(io.BytesIO(data))
            slides = list(presentation.slides)
            if len(slides) > limits.max_pages:
                raise DocumentTooLarge(
                    f"The presentation has {len(slides)} slides; the limit is {limits.max_pages}.",
                    unit="pages",
                    limit=limits.max_pages,
                    actual=len(slides),
                )
            blocks = [
                block
                for number, slide in enumerate(slides, start=1)
                for block in _slide_blocks(slide, number)
            ]
        except (
            PythonPptxError,
            KeyError,
            ValueError,
            SyntaxError,
            EOFError,
            NotImplementedError,
            zipfile.BadZipFile,
            zlib.error,
        ) as exc:
            raise CorruptDocument("The PowerPoint file is damaged and cannot be read.") from exc
        return ParsedDocument(blocks=blocks, page_count=len(slides))


def _slide_blocks(slide: Slide, page: int) -> list[Block]:
    blocks: list[Block] = []
    title = slide.shapes.title
    if title is not None and title.has_text_frame and title.text_frame.text.strip():
        blocks.append(Block(kind="heading", text=title.text_frame.text, page=page, level=1))
    shapes = sorted(_leaf_shapes(slide.shapes), key=lambda s: (s.top or 0, s.left or 0))
    for shape in shapes:
        if title is not None and shape.shape_id == title.shape_id:
            continue
        block = _shape_block(shape, page)
        if block is not None:
            blocks.append(block)
    if slide.has_notes_slide:
        notes = slide.notes_slide.notes_text_frame
        if notes is not None and notes.text.strip():
            blocks.append(Block(kind="paragraph", text=notes.text, page=page))
    return blocks


def _leaf_shapes(shapes: Iterable[BaseShape]) -> Iterator[BaseShape]:
    """Shapes with content, looking inside groups."""
    for shape in shapes:
        if isinstance(shape, GroupShape):
            yield from _leaf_shapes(shape.shapes)
        else:
            yield shape


def _shape_block(shape: BaseShape, page: int) -> Block | None:
    placeholder = shape.placeholder_format.type if shape.is_placeholder else None
    if placeholder in _SKIPPED or placeholder in _TITLES:
        return None
    if isinstance(shape, GraphicFrame) and shape.has_table:
        table = shape.table
        rows = [["" if cell.is_spanned else cell.text for cell in row.cells] for row in table.rows]
        markdown = rows_to_markdown(rows)
        return Block(kind="table", text=markdown, page=page) if markdown else None
    if not isinstance(shape, Shape) or not shape.has_text_frame:
        return None
    paragraphs = [p for p in shape.text_frame.paragraphs if p.text.strip()]
    if not paragraphs:
        return None
    if placeholder in _BULLETED and len(paragraphs) > 1:
        lines = ["  " * p.level + "- " + p.text.strip() for p in paragraphs]
        return Block(kind="list", text="\n".join(lines), page=page)
    return Block(kind="paragraph", text="\n".join(p.text for p in paragraphs), page=page)
