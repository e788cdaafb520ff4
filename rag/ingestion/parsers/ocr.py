"""OCR with Debian's ``tesseract`` (Apache-2.0) and its Korean model (``tesseract-ocr-kor``).

The program is run directly, once per image, asking for two outputs from the same
recognition: the text, and the word boxes (TSV). The boxes are used to drop a
known artefact of page segmentation mode 4 (one column of text of variable
sizes): a short line re-read from the lower half of the line above it, which
comes out as Latin gibberish. ``pytesseract`` cannot return both outputs with a
``--psm`` option from one run, and it adds nothing else we need, so it is not used.

Languages ``kor+eng``; images are converted to greyscale first. One OpenMP thread
per run: workers already run documents in parallel, and the machine has few cores.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import OcrFailed, OcrUnavailable
from rag.ingestion.parsers.base import Block

if TYPE_CHECKING:
    from PIL.Image import Image

    from rag.ingestion.parsers.base import ParseLimits

LANGUAGES = "kor+eng"
PAGE_SEGMENTATION_MODE = "4"
_LIST_LANGS_TIMEOUT_SECONDS = 20
# A line this many times shorter than a line it sits inside is a re-read fragment.
_FRAGMENT_HEIGHT_RATIO = 1.6
_FRAGMENT_OVERLAP = 0.6


def ocr_available() -> bool:
    """True when ``tesseract`` is on PATH and has the Korean (``kor``) model installed."""
    binary = shutil.which("tesseract")
    if binary is None:
        return False
    try:
        # A fixed argument list, no shell, nothing from the user.
        listed = subprocess.run(  # noqa: S603
            [binary, "--list-langs"],
            capture_output=True,
            text=True,
            timeout=_LIST_LANGS_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    # Tesseract 4/5 print the list on stdout, some builds on stderr.
    languages = {line.strip() for line in (listed.stdout + listed.stderr).splitlines()}
    return listed.returncode == 0 and {"kor", "eng"} <= languages


def require_ocr(limits: ParseLimits) -> None:
    """Raise ``OcrUnavailable`` unless OCR is switched on and installed."""
    if not limits.ocr_enabled:
        raise OcrUnavailable("Text in images cannot be read: OCR is switched off.")
    if not ocr_available():
        raise OcrUnavailable(
            "Text in images cannot be read: OCR (tesseract with Korean) is not installed."
        )


def ocr_image(image: Image, *, timeout: float) -> str:
    """Recognise the text of ``image``; lines kept, paragraphs separated by blank lines.

    Precondition: ``require_ocr`` passed. Raises ``OcrFailed`` when tesseract fails
    or runs past ``timeout`` seconds.
    """
    binary = shutil.which("tesseract")
    if binary is None:
        raise OcrUnavailable("OCR (tesseract) is no longer installed.")
    with tempfile.TemporaryDirectory(prefix="rag-ocr-") as workdir:
        source = Path(workdir) / "page.png"
        image.convert("L").save(source, format="PNG")
        output = Path(workdir) / "page"
        command = [
            binary, str(source), str(output), "-l", LANGUAGES, "--psm", PAGE_SEGMENTATION_MODE,
            "-c", "tessedit_create_txt=1", "-c", "tessedit_create_tsv=1",
        ]  # fmt: skip
        try:
            # A fixed argument list, no shell; the paths are our own temporary files.
            result = subprocess.run(  # noqa: S603
                command,
                capture_output=True,
                timeout=timeout,
                check=False,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            )
        except subprocess.TimeoutExpired as exc:
            raise OcrFailed(f"OCR took longer than {timeout:g} seconds and was stopped.") from exc
        except OSError as exc:
            raise OcrUnavailable("OCR (tesseract) could not be started.") from exc
        if result.returncode != 0:
            raise OcrFailed("OCR could not read the image.")
        text = output.with_suffix(".txt").read_text(encoding="utf-8", errors="replace")
        tsv = output.with_suffix(".tsv").read_text(encoding="utf-8", errors="replace")
    return drop_fragment_lines(text, tsv)


def text_blocks(text: str, *, page: int | None) -> list[Block]:
    """OCR text as paragraph blocks (split at blank lines)."""
    paragraphs = [p.strip() for p in text.split("\n\n")]
    return [Block(kind="paragraph", text=p, page=page) for p in paragraphs if p]


@dataclass(frozen=True, slots=True)
class _Line:
    key: str
    left: int
    top: int
    right: int
    bottom: int

    @property
    def height(self) -> int:
        return self.bottom - self.top


def drop_fragment_lines(text: str, tsv: str) -> str:
    """Remove from ``text`` the lines that the word boxes show to be fragments."""
    lines = _tsv_lines(tsv)
    fragments = Counter(line.key for line in lines if _is_fragment(line, lines))
    if not fragments:
        return text
    kept: list[str] = []
    for line in text.splitlines():
        key = "".join(line.split())
        if key and fragments[key] > 0:
            fragments[key] -= 1
            continue
        kept.append(line)
    return "\n".join(kept)


def _tsv_lines(tsv: str) -> list[_Line]:
    """Text lines with their bounding boxes, from tesseract's word-level TSV rows."""
    words: dict[tuple[str, str, str, str], list[list[str]]] = {}
    for row in tsv.splitlines()[1:]:
        fields = row.split("\t")
        # level page block paragraph line word left top width height conf text
        if len(fields) == 12 and fields[0] == "5" and fields[11].strip():
            words.setdefault((fields[1], fields[2], fields[3], fields[4]), []).append(fields)
    lines: list[_Line] = []
    for line_words in words.values():
        try:
            boxes = [tuple(int(v) for v in word[6:10]) for word in line_words]
        except ValueError:
            continue
        lines.append(
            _Line(
                key="".join("".join(word[11].split()) for word in line_words),
                left=min(b[0] for b in boxes),
                top=min(b[1] for b in boxes),
                right=max(b[0] + b[2] for b in boxes),
                bottom=max(b[1] + b[3] for b in boxes),
            )
        )
    return lines


def _is_fragment(line: _Line, lines: list[_Line]) -> bool:
    if line.height <= 0:
        return False
    for other in lines:
        if other is line or other.height < _FRAGMENT_HEIGHT_RATIO * line.height:
            continue
        vertical = min(line.bottom, other.bottom) - max(line.top, other.top)
        horizontal = min(line.right, other.right) - max(line.left, other.left)
        if horizontal > 0 and vertical >= _FRAGMENT_OVERLAP * line.height:
            return True
    return False
