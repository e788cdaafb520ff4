"""Sentence boundaries for Korean (and English) prose, by punctuation and endings.

A sentence ends at ``.``, ``?``, ``!``, ``。``, their full-width forms or ``…`` (optionally
followed by closing quotes or brackets) when whitespace follows, which covers the
usual Korean endings (``…다.``, ``…요.``, ``…까?``, ``…죠.``). It also ends at a line
break right after a final ending without punctuation, as in the clipped style of
Korean reports (``…을 검토함``, ``…예정임``, ``…했다``).

Not boundaries: decimals and versions (``47.2 m``, ``v1.2``: no space follows),
numbered dates (``2018. 9. 4.``: a number, a dot, a space and a number), list
markers (``1.``, ``가.``, ``iv.`` at the start of a sentence), single initials
(``J. Kim``), common Latin abbreviations (``e.g.``, ``i.e.``, ``Dr.``, ``No.``),
and a quotation followed by a quotative particle (``“좋다.” 라고 말했다``).

``kiwipiepy`` splits better where punctuation is missing, but loads a language
model of about 90 MB into every process; chunking needs boundaries only inside
paragraphs too long for one chunk, where punctuation is the norm.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(
    # Full-width ? and ! and curly quotes are written as escapes (U+FF1F, U+FF01,
    # U+201D, U+2019) so that they cannot be mistaken for ASCII when reading.
    r"""[.!?。\uff1f\uff01…]+["'\u201d\u2019」』)\]]*(?=\s)"""  # punctuation, whitespace
    r"|(?<=[다요죠까음함임됨])[ \t]*(?=\n)"  # a final ending at the end of a line
)
_ABBREVIATIONS = frozenset(
    {
        "e.g", "i.e", "cf", "vs", "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "no",
        "nos", "fig", "figs", "vol", "p", "pp", "approx", "ca", "inc", "ltd", "co", "corp",
        "u.s", "u.k", "al", "dept", "est", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
        "sep", "sept", "oct", "nov", "dec",
    }
)  # fmt: skip
_NUMBER = re.compile(r"\d[\d,]*")
_LIST_MARKER = re.compile(r"[(\[]?(?:\d{1,3}|[가-하]|[A-Za-z]|[ivxlcIVXLC]{1,5})")
_TOKEN_BEFORE = re.compile(r"(\S*)$")
_CLOSING_QUOTE = re.compile(r"[\"'\u201d\u2019」』]")
_QUOTATIVE = re.compile(r"\s*(?:이?라고|이?라며|이?라는|하고|하며|고|며)(?:\s|$)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence in ``text``, surrounding whitespace excluded."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group().startswith(".") and not _ends_sentence(text, start, match.start()):
            continue
        if _CLOSING_QUOTE.search(match.group()) and _QUOTATIVE.match(text, end):
            continue  # 그는 “좋다.” 라고 말했다: the quote is inside the sentence
        _append_span(text, start, end, spans)
        start = end
    _append_span(text, start, len(text), spans)
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, in order, without surrounding whitespace."""
    return [text[start:end] for start, end in sentence_spans(text)]


def _ends_sentence(text: str, sentence_start: int, dot: int) -> bool:
    """Whether the ``.`` at ``dot`` ends the sentence that began at ``sentence_start``."""
    if text.startswith("..", dot):
        return True  # an ellipsis written with dots
    token_match = _TOKEN_BEFORE.search(text, sentence_start, dot)
    token = token_match.group(1) if token_match else ""
    bare = token.lstrip("([\"'\u201c\u2018")
    if bare.lower() in _ABBREVIATIONS:
        return False
    if len(bare) == 1 and bare.isascii() and bare.isalpha():
        return False  # an initial
    after = text[dot + 1 :].lstrip()
    if _NUMBER.fullmatch(bare) and after[:1].isdigit():
        return False  # "2018. 9. 4." style dates and "1. 2. 3." sequences
    sentence_so_far = text[sentence_start:dot].strip()
    return not _LIST_MARKER.fullmatch(sentence_so_far)


def _append_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))
