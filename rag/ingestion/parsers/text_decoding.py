"""Bytes to text for text formats (plain text, Markdown, CSV, HTML).

Order: a byte-order mark; then the charset the file declares (HTML ``<meta>``);
then strict UTF-8; then strict CP949, the Windows superset of EUC-KR that most
Korean text files not in UTF-8 use. If nothing decodes cleanly the text is
decoded as UTF-8 with replacement characters and a warning says so.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from rag.errors import CorruptDocument

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Labels that mean "Korean legacy encoding"; CP949 decodes all of them.
_KOREAN_LABELS = frozenset({"euc-kr", "euc_kr", "euckr", "ks_c_5601-1987", "ksc5601", "cp949"})


@dataclass(frozen=True, slots=True)
class DecodedText:
    text: str
    encoding: str
    warning: str | None = None


def decode_text(data: bytes, *, declared: str | None = None) -> DecodedText:
    """Decode ``data``; raises ``CorruptDocument`` for binary content (NUL bytes)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return DecodedText(data.decode(encoding, errors="replace"), encoding)
    if b"\x00" in data:
        raise CorruptDocument("The file contains binary data, not text.")
    for encoding in _candidates(declared):
        try:
            return DecodedText(data.decode(encoding), encoding)
        except UnicodeDecodeError:
            continue
    return DecodedText(
        data.decode("utf-8", errors="replace"),
        "utf-8",
        warning="The text encoding could not be recognised; some characters were replaced.",
    )


def _candidates(declared: str | None) -> list[str]:
    candidates = ["utf-8", "cp949"]
    if declared:
        label = declared.strip().lower()
        if label in _KOREAN_LABELS:
            label = "cp949"
        try:
            codecs.lookup(label)
        except LookupError:
            return candidates
        candidates.insert(0, label)
    return candidates
