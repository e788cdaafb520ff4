"""Typed RAG errors; each interface translates them once (R11).

Document errors are raised by the parsers in ``rag.ingestion.parsers``, which run
without Django settings (in a worker, a test, a shell). So their ``message`` is
plain English and safe to show to users, and ``code`` is a stable identifier
that the web interface maps to a translated (Korean) message. Never match on the
message text; match on the class or on ``code``.

| class | code |
| --- | --- |
| ``DocumentError`` | ``document_error`` |
| ``UnsupportedFormat`` | ``unsupported_format`` |
| ``CorruptDocument`` | ``corrupt_document`` |
| ``PasswordProtected`` | ``password_protected`` |
| ``DocumentTooLarge`` | ``document_too_large`` |
| ``OcrUnavailable`` | ``ocr_unavailable`` |
| ``OcrFailed`` | ``ocr_failed`` |
"""

from __future__ import annotations

from typing import Literal


class DocumentError(Exception):
    """A document cannot be turned into text. Nothing of it may be indexed."""

    code = "document_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedFormat(DocumentError):
    """The file type is not one the platform reads (e.g. an old binary .doc)."""

    code = "unsupported_format"


class CorruptDocument(DocumentError):
    """The file claims a supported type but cannot be read (truncated, damaged, empty)."""

    code = "corrupt_document"


class PasswordProtected(DocumentError):
    """The file is encrypted with a password; the platform does not ask for passwords."""

    code = "password_protected"


class DocumentTooLarge(DocumentError):
    """The file exceeds a configured limit. ``limit`` and ``actual`` are in ``unit``s."""

    code = "document_too_large"

    def __init__(
        self,
        message: str,
        *,
        unit: Literal["bytes", "pages", "pixels"],
        limit: int,
        actual: int,
    ) -> None:
        super().__init__(message)
        self.unit = unit
        self.limit = limit
        self.actual = actual


class OcrUnavailable(DocumentError):
    """The file needs OCR (an image or a scanned PDF) but OCR is not installed or is off."""

    code = "ocr_unavailable"


class OcrFailed(DocumentError):
    """OCR is installed but could not read an image (it crashed or ran out of time)."""

    code = "ocr_failed"


class RagError(Exception):
    """A request about documents that cannot be carried out (not a parsing failure).

    ``message`` is plain English and safe to show; ``code`` is stable.

    | class | code |
    | --- | --- |
    | ``AclInvalid`` | ``acl_invalid`` |
    | ``DuplicateDocument`` | ``duplicate_document`` |
    """

    code = "rag_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AclInvalid(RagError):
    """A contract-6 ACL is malformed or names a department, group or user that the
    owner's organization does not have."""

    code = "acl_invalid"


class DuplicateDocument(RagError):
    """The owner already uploaded a file with the same content; ``document_id`` is it."""

    code = "duplicate_document"

    def __init__(self, message: str, *, document_id: int) -> None:
        super().__init__(message)
        self.document_id = document_id
