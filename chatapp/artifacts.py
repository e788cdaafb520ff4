"""Artifacts: HTML documents and SVG images an answer contains, shown in a sandbox.

An artifact is served by its own URL with its own Content-Security-Policy:
``sandbox allow-scripts`` (an opaque origin: no cookies, no access to the app),
no network at all (``default-src 'none'``), inline script and style allowed so
the document can run. The page shows it in an iframe with the same sandbox.
"""

from __future__ import annotations

from chatapp.rendering import default_pipeline

ARTIFACT_LANGUAGES = frozenset({"html", "svg", "xml"})
ARTIFACT_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; media-src data: blob:; "
    "connect-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)


def code_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced code block of a Markdown text, as (language, code), in order."""
    blocks = []
    for token in default_pipeline().parse(text):
        if token.type == "fence":
            language = (token.info or "").strip().split(" ", 1)[0].lower()
            blocks.append((language, token.content))
    return blocks


def artifact_document(text: str, index: int) -> tuple[str, str] | None:
    """The ``index``-th code block as a document (content type, body), if it is HTML or SVG."""
    blocks = code_blocks(text)
    if not 0 <= index < len(blocks):
        return None
    language, code = blocks[index]
    if language not in ARTIFACT_LANGUAGES:
        return None
    if language in ("svg", "xml") and "<svg" in code:
        body = f'<!DOCTYPE html><html><body style="margin:0">{code}</body></html>'
        return "text/html; charset=utf-8", body
    return "text/html; charset=utf-8", code
