"""Korean-aware tokens for full-text search.

PostgreSQL's parsers do not split Korean into words (조사 and 어미 stay glued to
the stem: "연차휴가는"), so documents and queries are analysed by kiwipiepy first
and only the content morphemes are kept, space-joined, for a ``'simple'``
tsvector. Queries go through the same function, so both sides match.

Kept: nouns (NN*), verb and adjective stems (VV*, VA*), roots (XR), foreign words
(SL), numbers (SN) and hanja (SH), lowercased. Particles, endings, suffixes and
punctuation are dropped.
"""

from __future__ import annotations

import re
from typing import Final

from django.apps import apps

_KEPT_TAGS: Final = ("NN", "VV", "VA", "XR", "SL", "SN", "SH")
_NON_WORD: Final = re.compile(r"[^\w]+")


def token_list(text: str) -> list[str]:
    """The content morphemes of ``text``, in order, lowercased, word characters only."""
    if not text.strip():
        return []
    kiwi = apps.get_app_config("rag").kiwi()  # type: ignore[attr-defined]
    tokens: list[str] = []
    for token in kiwi.tokenize(text):
        if not str(token.tag).startswith(_KEPT_TAGS):
            continue
        form = _NON_WORD.sub("", str(token.form).lower())
        if form:
            tokens.append(form)
    return tokens


def search_tokens(text: str) -> str:
    """``token_list`` space-joined: what ``Chunk.search_tokens`` stores."""
    return " ".join(token_list(text))
