"""URL checks shared by the Markdown parser, the HTML rules and the sanitiser.

One allowlist, applied three times (when a link is parsed, when it is rendered, and
by the final sanitiser), so that a bug in one layer is not enough to emit a
`javascript:` link.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Browsers ignore ASCII whitespace and control characters inside a scheme
# ("java\tscript:" runs script), so the check looks at the URL without them.
_IGNORED_BY_BROWSERS_RE = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.\-]*):")

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
IMAGE_SCHEMES = frozenset({"http", "https"})


def url_scheme(url: str) -> str | None:
    """The lower-cased scheme a browser would see in `url`, or None for a relative URL."""
    match = _SCHEME_RE.match(_IGNORED_BY_BROWSERS_RE.sub("", url).lower())
    return match.group(1) if match else None


def link_is_allowed(url: str) -> bool:
    """True for http(s) and mailto links and for relative ones (`/path`, `#part`)."""
    scheme = url_scheme(url)
    return scheme is None or scheme in LINK_SCHEMES


def link_is_external(url: str) -> bool:
    """True for a link that leaves this site: http(s) or protocol-relative (`//host`)."""
    if url_scheme(url) in IMAGE_SCHEMES:
        return True
    return _IGNORED_BY_BROWSERS_RE.sub("", url).startswith(("//", "\\\\", "/\\", "\\/"))


def image_source_is_allowed(url: str) -> bool:
    """True only for absolute http(s) URLs: no data:, no relative paths, no other scheme."""
    return url_scheme(url) in IMAGE_SCHEMES and bool(image_host(url))


def image_host(url: str) -> str:
    """The host an image would be loaded from, shown before the reader agrees to load it.

    Empty when the URL has no host or cannot be split (an unbalanced IPv6 bracket).
    """
    try:
        return urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
