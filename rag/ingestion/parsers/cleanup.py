"""Text clean-up applied to every block, whatever the format.

- NFC normalisation: files from macOS and some PDFs carry decomposed Hangul
  (conjoining jamo), which would never match a query typed on a keyboard.
- Private-use characters (U+E000 to U+F8FF) are dropped: HWP writes U+F53A for the
  "한글" logo glyph and Word-made PDFs map bullets into this range.
- Control characters other than tab and newline are dropped; CR LF becomes LF.
"""

from __future__ import annotations

import re
import unicodedata

from rag.ingestion.parsers.base import Block

# C0/C1 controls except \t and \n, lone surrogates, private use, and the BOM.
_DROP = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\ufeff]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def clean_text(text: str) -> str:
    """Return ``text`` normalised to NFC without private-use or control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _DROP.sub("", unicodedata.normalize("NFC", text))
    return _TRAILING_SPACE.sub("\n", text).strip()


def clean_blocks(blocks: list[Block]) -> list[Block]:
    """Clean every block and drop the ones left empty."""
    cleaned: list[Block] = []
    for block in blocks:
        text = clean_text(block.text)
        if text:
            cleaned.append(Block(kind=block.kind, text=text, page=block.page, level=block.level))
    return cleaned
