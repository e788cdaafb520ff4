"""Guards for ZIP-based formats (DOCX, PPTX, XLSX, HWPX), run before a library opens them."""

from __future__ import annotations

import io
import zipfile

from rag.errors import CorruptDocument, DocumentTooLarge, PasswordProtected
from rag.ingestion.parsers.base import ParseLimits

# ZIP general-purpose flag bit 0: the entry is encrypted.
_ZIP_ENCRYPTED = 0x1


def check_zip_container(data: bytes, limits: ParseLimits) -> None:
    """Reject a ZIP whose entries would inflate past ``limits.max_unpacked_bytes``.

    The sizes come from the central directory, which an attacker controls, but
    the libraries that read these formats stop at the declared size, so the
    declared total bounds what they inflate.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        NotImplementedError,
    ) as exc:
        raise CorruptDocument("The file is damaged: its ZIP container cannot be read.") from exc
    if any(entry.flag_bits & _ZIP_ENCRYPTED for entry in entries):
        raise PasswordProtected("The file is protected with a password.")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > limits.max_unpacked_bytes:
        raise DocumentTooLarge(
            f"The file unpacks to {unpacked} bytes; the limit is {limits.max_unpacked_bytes}.",
            unit="bytes",
            limit=limits.max_unpacked_bytes,
            actual=unpacked,
        )
