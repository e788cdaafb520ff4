"""Images (PNG, JPEG, TIFF, WebP): OCR of each frame; a multi-page TIFF has one page per frame.

Pillow (MIT-CMU) decodes; ``ocr.py`` recognises. Without OCR an image has no text
to offer, so the parser raises ``OcrUnavailable`` rather than index nothing.
"""

from __future__ import annotations

import io

from PIL import Image, ImageSequence, UnidentifiedImageError

from rag.errors import CorruptDocument, DocumentTooLarge
from rag.ingestion.parsers.base import Block, ParsedDocument, ParseLimits
from rag.ingestion.parsers.ocr import ocr_image, require_ocr, text_blocks

# About an A3 page at 600 dpi. Larger images are posters or bombs, not scans.
MAX_PIXELS = 70_000_000


class ImageParser:
    def parse(self, data: bytes, *, filename: str, limits: ParseLimits) -> ParsedDocument:
        require_ocr(limits)
        try:
            with Image.open(io.BytesIO(data)) as image:
                frames = getattr(image, "n_frames", 1)
                _check_size(image.width * image.height, frames, limits)
                limits.ocr_starting()
                blocks: list[Block] = []
                for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                    text = ocr_image(frame, timeout=limits.ocr_timeout_seconds)
                    blocks.extend(text_blocks(text, page=number))
        except Image.DecompressionBombError as exc:
            raise DocumentTooLarge(
                "The image has too many pixels.", unit="pixels", limit=MAX_PIXELS, actual=0
            ) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise CorruptDocument("The image is damaged and cannot be read.") from exc
        warnings = [] if blocks else ["No text was recognised in the image."]
        return ParsedDocument(blocks=blocks, page_count=frames, ocr_used=True, warnings=warnings)


def _check_size(pixels: int, frames: int, limits: ParseLimits) -> None:
    if pixels > MAX_PIXELS:
        raise DocumentTooLarge(
            f"The image has {pixels} pixels; the limit is {MAX_PIXELS}.",
            unit="pixels",
            limit=MAX_PIXELS,
            actual=pixels,
        )
    if frames > limits.max_pages:
        raise DocumentTooLarge(
            f"The image has {frames} pages; the limit is {limits.max_pages}.",
            unit="pages",
            limit=limits.max_pages,
            actual=frames,
        )
