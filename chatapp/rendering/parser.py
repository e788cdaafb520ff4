"""The markdown-it configuration for model output, and the pipeline object.

- CommonMark plus GFM tables and strikethrough, and our math rules.
- `html=False`: raw HTML written by the model is escaped, never passed through.
  This is the first line of sanitisation.
- `linkify` off: it would need linkify-it-py, and its fuzzy matching turns the file
  names LLMs write all the time into links (`settings.py`, `README.md` are
  valid-looking hosts under the .py and .md TLDs). Autolinks `<https://...>` and
  `[text](url)` still work.
- `typographer` off: code-like prose must stay as written.
- Reference definitions (`[x]: https://...`) are off and stay literal text: LLMs
  rarely write them, and a definition can change links in blocks above it, which
  would break the streaming renderer's rule that a finished block never changes.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

from chatapp.rendering.mathml import use_math
from chatapp.rendering.renderer import SafeHtmlRenderer
from chatapp.rendering.sanitize import build_cleaner
from chatapp.rendering.urls import link_is_allowed

if TYPE_CHECKING:
    from collections.abc import Sequence

    from markdown_it.token import Token


class ModelOutputMarkdown(MarkdownIt):
    """markdown-it whose link check is our allowlist rather than its denylist
    (which lets `data:image/...` through and knows nothing of other schemes)."""

    def validateLink(self, url: str) -> bool:  # noqa: N802 (markdown-it's name)
        return link_is_allowed(url)


def build_parser() -> MarkdownIt:
    md = ModelOutputMarkdown(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False, "xhtmlOut": False},
        renderer_cls=SafeHtmlRenderer,
    )
    md.enable(["table", "strikethrough"])
    md.disable("reference")
    use_math(md)
    return md


class MarkdownPipeline:
    """Parse, render and sanitise model output.

    Holds a configured parser and sanitiser, both read-only after construction, so
    one instance can be shared by every request and thread. Block tokens can be
    rendered in slices: the HTML of consecutive top-level slices concatenates to the
    HTML of the whole (the streaming renderer relies on this).
    """

    def __init__(self) -> None:
        self._md = build_parser()
        self._cleaner = build_cleaner()

    def parse(self, text: str) -> list[Token]:
        """Block tokens for `text` (a fresh env each time: no state between calls)."""
        return self._md.parse(text, {})

    def render(self, tokens: Sequence[Token]) -> str:
        """Sanitised HTML for a token list or a slice of top-level blocks of one."""
        html = self._md.renderer.render(tokens, self._md.options, {})
        return self._cleaner.clean(html) if html else ""


@functools.cache
def default_pipeline() -> MarkdownPipeline:
    """The process-wide pipeline, built on first use (not at import)."""
    return MarkdownPipeline()
