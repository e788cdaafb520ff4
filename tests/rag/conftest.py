"""Fixtures for the document parser and chunking tests (no database needed).

The sample documents live in ``shared/samples/`` beside the checkout (CI runs
with a copy of shared/ there); their README lists what each must yield.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rag.ingestion.parsers import ParseLimits
from rag.ingestion.parsers.ocr import ocr_available

SAMPLES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "samples"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    if not (SAMPLES_DIR / "README.md").is_file():
        pytest.fail(
            f"Sample documents not found in {SAMPLES_DIR}: the parser tests need the "
            "shared/ folder beside the checkout, as CI lays it out."
        )
    return SAMPLES_DIR


@pytest.fixture(scope="session")
def sample(samples_dir: Path) -> Callable[[str], bytes]:
    """The bytes of one sample document, by file name."""

    def read(name: str) -> bytes:
        return (samples_dir / name).read_bytes()

    return read


@pytest.fixture
def limits() -> ParseLimits:
    return ParseLimits(max_bytes=20 * 1024 * 1024, max_pages=200)


@pytest.fixture(scope="session")
def require_tesseract() -> None:
    """OCR tests need Debian's tesseract-ocr and tesseract-ocr-kor, which `make test` installs."""
    if not ocr_available():
        pytest.fail(
            "OCR tests need tesseract with the Korean model: "
            "apt-get install tesseract-ocr tesseract-ocr-kor"
        )
