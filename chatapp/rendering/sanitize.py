"""The last pass over rendered model output: an allowlist HTML sanitiser (nh3).

The renderer already escapes raw HTML and writes only the markup below; this pass
guarantees that nothing else reaches the browser even if a rule has a bug. nh3
binds ammonia (Rust, html5ever): it parses the HTML the way a browser does,
including the MathML namespace rules that mutation-XSS payloads abuse, which a
regex or an HTMLParser-based filter written here would not.

The allowlist is exactly what renderer.py, highlight.py and mathml.py emit.
`rel` on links is written by the renderer (only on external links), so nh3's
`link_rel` is off and `rel`/`target` are allowed with one fixed value each.
"""

from __future__ import annotations

import nh3

from chatapp.rendering.highlight import TOKEN_CLASSES
from chatapp.rendering.mathml import MATHML_ATTRIBUTES, MATHML_TAGS
from chatapp.rendering.urls import LINK_SCHEMES, image_source_is_allowed

HTML_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s",
        "code", "pre", "blockquote", "ul", "ol", "li", "a", "table", "thead",
        "tbody", "tr", "th", "td", "div", "span", "button",
    }
)  # fmt: skip

_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "title"}),
    "ol": frozenset({"start"}),
    "button": frozenset({"data-src", "data-alt", "data-copy", "data-copied-label"}),
    **dict.fromkeys(MATHML_TAGS, MATHML_ATTRIBUTES),
}

# Attributes allowed with one value only (nh3 wants them out of _ATTRIBUTES).
_FIXED_VALUES: dict[str, dict[str, frozenset[str]]] = {
    "a": {"target": frozenset({"_blank"}), "rel": frozenset({"noopener noreferrer"})},
    "button": {"type": frozenset({"button"})},
}

_CLASSES: dict[str, frozenset[str]] = {
    "div": frozenset({"md-code", "md-code-head", "md-table", "md-math"}),
    "span": frozenset(
        {
            "md-code-lang",
            "md-image-label",
            "md-image-alt",
            "md-image-host",
            "md-image-blocked",
            *TOKEN_CLASSES,
        }
    ),
    "button": frozenset({"md-copy", "md-image"}),
    "code": frozenset({"md-math-error"}),
    "th": frozenset({"md-align-left", "md-align-center", "md-align-right"}),
    "td": frozenset({"md-align-left", "md-align-center", "md-align-right"}),
}


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3 checks URL schemes of href; the image placeholder's data-src is ours to check."""
    if tag == "button" and attribute == "data-src" and not image_source_is_allowed(value):
        return None
    return value


def build_cleaner() -> nh3.Cleaner:
    """A reusable sanitiser for rendered model output. Build once per pipeline."""
    return nh3.Cleaner(
        tags=HTML_TAGS | MATHML_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        tag_attribute_values=_FIXED_VALUES,
        allowed_classes=_CLASSES,
        url_schemes=set(LINK_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )
