"""HTML rules for the tokens markdown-it produces from model output.

Each rule writes only markup that the sanitiser (sanitize.py) also allows, so the
sanitiser is a safety net rather than the thing that shapes the output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.renderer import RendererHTML

from chatapp.rendering.highlight import render_code_block
from chatapp.rendering.mathml import render_math
from chatapp.rendering.urls import (
    image_host,
    image_source_is_allowed,
    link_is_allowed,
    link_is_external,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

# markdown-it aligns table cells with style="text-align:..."; the CSP forbids
# style attributes, so the alignment becomes one of these classes.
ALIGN_CLASSES = {
    "text-align:left": "md-align-left",
    "text-align:center": "md-align-center",
    "text-align:right": "md-align-right",
}


class SafeHtmlRenderer(RendererHTML):
    """markdown-it's HTML renderer with our rules for links, images, code, tables
    and math. Stateless: one instance may render any number of documents."""

    def link_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        href = str(token.attrGet("href") or "")
        if not link_is_allowed(href):
            # The parser's validateLink already refused these; this is the second line.
            return "<a>"
        attributes = f' href="{escapeHtml(href)}"'
        title = token.attrGet("title")
        if title:
            attributes += f' title="{escapeHtml(str(title))}"'
        if link_is_external(href):
            attributes += ' target="_blank" rel="noopener noreferrer"'
        return f"<a{attributes}>"

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        """A button that the reader clicks to load the image (rendered.js swaps in the
        <img>), so a model cannot make the browser fetch a remote URL on its own
        (tracking pixels, data exfiltration through the query string)."""
        token = tokens[idx]
        alt = self.renderInlineAsText(token.children, options, env)
        src = str(token.attrGet("src") or "")
        if not image_source_is_allowed(src):
            return f'<span class="md-image-blocked">{escapeHtml(alt)}</span>'
        show_label = escapeHtml(gettext("Show image"))
        return (
            f'<button type="button" class="md-image" data-src="{escapeHtml(src)}"'
            f' data-alt="{escapeHtml(alt)}">'
            f'<span class="md-image-label">{show_label}</span>'
            f' <span class="md-image-alt">{escapeHtml(alt)}</span>'
            f' <span class="md-image-host">{escapeHtml(image_host(src))}</span>'
            "</button>"
        )

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        info = unescapeAll(token.info).strip()
        language = info.split(maxsplit=1)[0] if info else ""
        return render_code_block(token.content, language)

    def code_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return render_code_block(tokens[idx].content, "")

    def table_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return '<div class="md-table"><table>\n'

    def table_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "</table></div>\n"

    def th_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return self._cell_open("th", tokens[idx])

    def td_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return self._cell_open("td", tokens[idx])

    @staticmethod
    def _cell_open(tag: str, token: Token) -> str:
        align_class = ALIGN_CLASSES.get(str(token.attrGet("style") or ""))
        return f'<{tag} class="{align_class}">' if align_class else f"<{tag}>"

    def math_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        return render_math(token.content, token.markup, display=False)

    def math_display(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        return render_math(token.content, token.markup, display=True)

    def math_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        return (
            f'<div class="md-math">{render_math(token.content, token.markup, display=True)}</div>\n'
        )
