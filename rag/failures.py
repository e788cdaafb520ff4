"""Why a document failed, in the reader's language.

Parsers run without Django, so a failure's ``message`` is plain English; the
document also stores the error's ``code``, and pages show the translation of the
code (the English message when the code has none)."""

from __future__ import annotations

from typing import Final

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

FAILURE_TEXTS: Final[dict[str, Promise]] = {
    "unsupported_format": _("This file type cannot be read."),
    "corrupt_document": _("The file is damaged or empty and cannot be read."),
    "password_protected": _("The file is protected by a password; upload it without one."),
    "document_too_large": _("The file is over the size or page limit."),
    "ocr_unavailable": _("The file needs OCR (a scan or an image), which this server lacks."),
    "ocr_failed": _("The scanned pages could not be read."),
    "document_error": _("No text could be read from the file."),
    "internal_error": _("Something went wrong while reading the file; upload it again."),
}
# Anything from the gateway: the embedding model did not answer, or not usefully.
MODEL_FAILURE: Final = _("The embedding model could not be used; try again later.")


def failure_text(code: str, message: str) -> str:
    """Why a document failed: the translation of its ``code`` when there is one."""
    if code in FAILURE_TEXTS:
        return str(FAILURE_TEXTS[code])
    if code:  # a gateway error's code
        return str(MODEL_FAILURE)
    return message
