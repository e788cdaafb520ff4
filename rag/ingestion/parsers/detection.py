"""Which parser a file needs: by its bytes first, by its name only for text.

Binary formats are recognised by their signature, never by the name, so a
renamed file still reaches the right parser and a damaged file named ``.docx``
fails as corrupt instead of being read as something else. ZIP-based formats are
told apart by the entries they contain, OLE2 (``D0CF11E0``) files by their
streams. Only text formats, which have no signature, fall back to the extension.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import PurePath

import olefile

from rag.errors import CorruptDocument, PasswordProtected, UnsupportedFormat

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
HWP_SIGNATURE = b"HWP Document File"
_ZIP_MAGIC = b"PK\x03\x04"
_PDF_MAGIC = b"%PDF-"
# The PDF signature may follow some junk; readers accept it within the first 1 KiB.
_PDF_SEARCH_BYTES = 1024

_ZIP_MARKERS = (
    ("word/document.xml", "docx"),
    ("ppt/presentation.xml", "pptx"),
    ("xl/workbook.xml", "xlsx"),
    ("Contents/content.hpf", "hwpx"),
    ("Contents/section0.xml", "hwpx"),
)
_TEXT_EXTENSIONS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".text": "text",
    ".csv": "csv",
}
# Extensions of formats we read by signature: if the signature is missing, the
# file is damaged rather than of another type.
_BINARY_EXTENSIONS = {
    ".pdf": "PDF",
    ".docx": "DOCX",
    ".docm": "DOCX",
    ".pptx": "PPTX",
    ".pptm": "PPTX",
    ".xlsx": "XLSX",
    ".xlsm": "XLSX",
    ".hwp": "HWP",
    ".hwpx": "HWPX",
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WebP",
}
_OLE_STREAM_NAMES = (
    ("WordDocument", "Word 97-2003 (.doc) files are not supported; save it as .docx."),
    ("Workbook", "Excel 97-2003 (.xls) files are not supported; save it as .xlsx."),
    ("Book", "Excel 95 (.xls) files are not supported; save it as .xlsx."),
    ("PowerPoint Document", "PowerPoint 97-2003 (.ppt) files are not supported; save it as .pptx."),
)
_LEGACY_EXTENSIONS = {
    ".doc": "Word 97-2003 (.doc) files are not supported; save it as .docx.",
    ".xls": "Excel 97-2003 (.xls) files are not supported; save it as .xlsx.",
    ".ppt": "PowerPoint 97-2003 (.ppt) files are not supported; save it as .pptx.",
}
SUPPORTED_DESCRIPTION = (
    "PDF, Word (.docx), PowerPoint (.pptx), Excel (.xlsx), HWP, HWPX, HTML, Markdown, "
    "plain text, CSV and images (PNG, JPEG, TIFF, WebP)"
)


def detect_format(data: bytes, filename: str) -> str:
    """Return the format name of ``data``: one of the keys of ``PARSERS``.

    Raises ``UnsupportedFormat`` for types the platform does not read,
    ``CorruptDocument`` for an empty file or one whose signature contradicts its
    name, and ``PasswordProtected`` for an encrypted Office file (which is an OLE2
    container holding an ``EncryptedPackage`` stream).
    """
    if not data:
        raise CorruptDocument("The file is empty.")
    extension = PurePath(filename).suffix.lower()
    signature_format = _format_from_signature(data, extension)
    if signature_format is not None:
        return signature_format
    if extension in _BINARY_EXTENSIONS:
        raise CorruptDocument(
            f"The file is named {extension} but is not a valid "
            f"{_BINARY_EXTENSIONS[extension]} file; it may be damaged."
        )
    if extension in _LEGACY_EXTENSIONS:
        raise UnsupportedFormat(_LEGACY_EXTENSIONS[extension])
    if extension in _TEXT_EXTENSIONS:
        return _TEXT_EXTENSIONS[extension]
    if _looks_like_html(data):
        return "html"
    raise UnsupportedFormat(
        f"This file type ({extension or 'no extension'}) is not supported. "
        f"Supported: {SUPPORTED_DESCRIPTION}."
    )


def _format_from_signature(data: bytes, extension: str) -> str | None:
    if data.startswith(_PDF_MAGIC) or (
        extension not in _TEXT_EXTENSIONS and _PDF_MAGIC in data[:_PDF_SEARCH_BYTES]
    ):
        return "pdf"
    if data.startswith(_ZIP_MAGIC):
        return _zip_format(data)
    if data.startswith(OLE_MAGIC):
        return _ole_format(data)
    if (
        data.startswith(b"\x89PNG\r\n\x1a\n")
        or data.startswith(b"\xff\xd8\xff")
        or data[:4] in (b"II*\x00", b"MM\x00*")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    ):
        return "image"
    return None


def _zip_format(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:64] if "mimetype" in names else b""
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        NotImplementedError,
        zlib.error,
    ) as exc:
        raise CorruptDocument(
            "The file is a damaged ZIP-based document (DOCX, PPTX, XLSX or HWPX)."
        ) from exc
    for marker, fmt in _ZIP_MARKERS:
        if marker in names:
            return fmt
    if mimetype.startswith(b"application/hwp+zip"):
        return "hwpx"
    raise UnsupportedFormat(
        f"ZIP archives and other ZIP-based formats are not supported. "
        f"Supported: {SUPPORTED_DESCRIPTION}."
    )


def _ole_format(data: bytes) -> str:
    """HWP 5.x, an encrypted Office file, or an unsupported legacy Office file."""
    try:
        ole: olefile.OleFileIO[str] = olefile.OleFileIO(io.BytesIO(data))
    except (OSError, struct.error, IndexError, ValueError) as exc:
        raise CorruptDocument("The file is a damaged OLE document (HWP or Office).") from exc
    try:
        if ole.exists("FileHeader"):
            header = ole.openstream("FileHeader").read(len(HWP_SIGNATURE))
            if header == HWP_SIGNATURE:
                return "hwp"
        if ole.exists("EncryptedPackage"):
            raise PasswordProtected(
                "The Office file is protected with a password; remove the password and "
                "upload it again."
            )
        for stream, message in _OLE_STREAM_NAMES:
            if ole.exists(stream):
                raise UnsupportedFormat(message)
    except (OSError, struct.error, IndexError, ValueError) as exc:
        raise CorruptDocument("The file is a damaged OLE document (HWP or Office).") from exc
    finally:
        ole.close()
    raise UnsupportedFormat(
        f"This OLE-based file type is not supported. Supported: {SUPPORTED_DESCRIPTION}."
    )


def _looks_like_html(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))
