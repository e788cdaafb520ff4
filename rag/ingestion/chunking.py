"""Blocks to chunks for embedding and citation, following the document's structure.

- Headings are not chunks: they form the ``heading_path`` of the chunks under
  them (``["2. 복무", "2.1 휴가"]``), which the pipeline stores and may prefix
  when embedding.
- Paragraphs and lists under the same heading and on the same page are packed
  together up to ``target_chars``. A block longer than ``max_chars`` is split:
  prose at sentence boundaries (``sentences.py``) with ``overlap_sentences``
  sentences repeated at the start of the next piece, lists between items.
- A table is a chunk of its own and is kept whole when it fits in
  ``max_chars``; a larger one is split between rows, each piece repeating the
  header row. Code is kept whole or split between lines.
- A chunk's ``page`` is the page of its first block. Chunks never span pages:
  packing stops at a page change.
- No chunk is empty, and none is longer than ``max_chars``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.ingestion.sentences import sentence_spans

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rag.ingestion.parsers.base import Block, BlockKind

_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class Chunk:
    text: str
    page: int | None
    heading_path: list[str]
    kind: BlockKind


def chunk_blocks(
    blocks: Iterable[Block],
    *,
    target_chars: int = 1200,
    max_chars: int = 2000,
    overlap_sentences: int = 1,
) -> list[Chunk]:
    """Chunks of ``blocks`` (in reading order, as a parser returns them)."""
    if not 0 < target_chars <= max_chars:
        raise ValueError("Need 0 < target_chars <= max_chars.")
    if overlap_sentences < 0:
        raise ValueError("overlap_sentences cannot be negative.")
    chunker = _Chunker(target_chars, max_chars, overlap_sentences)
    for block in blocks:
        chunker.add(block)
    chunker.flush()
    return chunker.chunks


@dataclass
class _Chunker:
    target: int
    maximum: int
    overlap: int
    chunks: list[Chunk] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    page: int | None = None

    def add(self, block: Block) -> None:
        if not block.text.strip():
            return
        if block.kind == "heading":
            self.flush()
            level = block.level or 1
            while self.headings and self.headings[-1][0] >= level:
                self.headings.pop()
            self.headings.append((level, " ".join(block.text.split())))
        elif block.kind == "table":
            self.flush()
            self._emit_all(_split_table(block.text, self.target, self.maximum), block)
        elif block.kind == "code":
            self.flush()
            self._emit_all(_split_lines(block.text, self.target, self.maximum), block)
        else:
            self._add_text(block)

    def _add_text(self, block: Block) -> None:
        text = block.text.strip()
        if self.texts and block.page != self.page:
            self.flush()
        if len(text) > self.maximum:
            self.flush()
            if block.kind == "list":
                pieces = _split_lines(text, self.target, self.maximum)
            else:
                pieces = _split_prose(text, self.target, self.maximum, self.overlap)
            self._emit_all(pieces, block)
            return
        size = sum(len(t) for t in self.texts) + len(_SEPARATOR) * len(self.texts)
        if self.texts and size + len(text) > self.target:
            self.flush()
        if not self.texts:
            self.page = block.page
        self.texts.append(text)
        self.kinds.add(block.kind)

    def flush(self) -> None:
        if self.texts:
            kind: BlockKind = "list" if self.kinds == {"list"} else "paragraph"
            self._emit(_SEPARATOR.join(self.texts), self.page, kind)
        self.texts, self.kinds, self.page = [], set(), None

    def _emit_all(self, pieces: list[str], block: Block) -> None:
        for piece in pieces:
            self._emit(piece, block.page, block.kind)

    def _emit(self, text: str, page: int | None, kind: BlockKind) -> None:
        if text.strip():
            path = [heading for _, heading in self.headings]
            self.chunks.append(Chunk(text=text, page=page, heading_path=path, kind=kind))


def _split_prose(text: str, target: int, maximum: int, overlap: int) -> list[str]:
    """Pieces of at most ``maximum`` (about ``target``) chars, cut between sentences."""
    spans: list[tuple[int, int]] = []
    for start, end in sentence_spans(text):
        if end - start <= maximum:
            spans.append((start, end))
        else:
            spans.extend(_hard_spans(text, start, end, maximum))
    pieces: list[str] = []
    first = 0  # first sentence of the piece (may repeat sentences of the previous one)
    must_reach = 0  # the piece must go at least to this sentence, to make progress
    while first < len(spans):
        last = max(first, must_reach)
        while last + 1 < len(spans) and spans[last + 1][1] - spans[first][0] <= target:
            last += 1
        pieces.append(text[spans[first][0] : spans[last][1]])
        following = last + 1
        if following >= len(spans):
            break
        first = max(following - overlap, first + 1)
        if spans[following][1] - spans[first][0] > maximum:
            first = following  # the overlap would not fit next to the next sentence
        must_reach = following
    return pieces


def _hard_spans(text: str, start: int, end: int, maximum: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence at spaces (or anywhere) into spans of ``maximum``."""
    spans: list[tuple[int, int]] = []
    while end - start > maximum:
        cut = text.rfind(" ", start + 1, start + maximum + 1)
        if cut <= start:
            cut = start + maximum
        spans.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        spans.append((start, end))
    return spans


def _split_lines(
    text: str, target: int, maximum: int, header: list[str] | None = None
) -> list[str]:
    """Whole if it fits ``maximum``; else pieces of lines of about ``target`` chars.

    ``header`` lines start every piece. A single line too long for a piece is cut.
    """
    if len(text) <= maximum:
        return [text]
    head = "\n".join(header or [])
    room = maximum - len(head) - 1 if head else maximum
    if room < 1:
        head, room = "", maximum
    lines: list[str] = []
    for line in text.split("\n")[len(header or []) :]:
        if len(line) <= room:
            lines.append(line)
        else:
            lines.extend(line[a:b] for a, b in _hard_spans(line, 0, len(line), room))
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    limit = min(max(target - len(head) - 1, 1), room)
    for line in lines:
        if current and size + 1 + len(line) > limit:
            pieces.append("\n".join(current))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    if current:
        pieces.append("\n".join(current))
    return [f"{head}\n{piece}" if head else piece for piece in pieces if piece.strip()]


def _split_table(markdown: str, target: int, maximum: int) -> list[str]:
    """A Markdown table, whole or split between rows with the header row repeated."""
    lines = markdown.split("\n")
    has_header = len(lines) >= 2 and set(lines[1].replace("|", "").split()) <= {"---"}
    header = lines[:2] if has_header else []
    return _split_lines(markdown, target, maximum, header=header)
