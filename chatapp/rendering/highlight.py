"""Code blocks: a header with the language and a copy button, then highlighted code.

Highlighting uses pygments with CSS classes only (`<span class="k">`): the
Content-Security-Policy has no 'unsafe-inline' for styles, so inline `style`
attributes would be dropped by the browser anyway. The colours for those classes
live in static/css/app.css ("rendered model output").
"""

from __future__ import annotations

from django.utils.translation import gettext
from markdown_it.common.utils import escapeHtml
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

# The class names pygments emits for its standard token types; the sanitiser
# keeps these on <span> and drops any other class.
TOKEN_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name)

# Language names are aliases such as "python" or "c++"; anything longer is not one
# and is not worth a lexer look-up (which scans plugin entry points on a miss).
_MAX_LANGUAGE_LENGTH = 40


def _lexer_for(language: str) -> Lexer | None:
    if not language or len(language) > _MAX_LANGUAGE_LENGTH:
        return None
    try:
        # stripnl=False keeps leading blank lines, so the copied text is the
        # model's text exactly.
        return get_lexer_by_name(language.lower(), stripnl=False)
    except ClassNotFound:
        return None


def highlight_code(code: str, language: str) -> str:
    """Escaped HTML for `code`: pygments token spans when `language` names a known
    lexer, plain escaped text otherwise. Never wrapped in <pre>."""
    lexer = _lexer_for(language)
    if lexer is None:
        return escapeHtml(code)
    return highlight(code, lexer, HtmlFormatter(nowrap=True))


def render_code_block(code: str, language: str) -> str:
    """The whole code block element: label (escaped), copy button, highlighted code.

    The button carries no handler: static/js/rendered.js finds `[data-copy]` by
    event delegation and copies the text of the block's <code>.
    """
    label = f'<span class="md-code-lang">{escapeHtml(language)}</span>' if language else ""
    copy_label = escapeHtml(gettext("Copy"))
    copied_label = escapeHtml(gettext("Copied"))
    return (
        '<div class="md-code"><div class="md-code-head">'
        f"{label}"
        '<button type="button" class="md-copy" data-copy=""'
        f' data-copied-label="{copied_label}">{copy_label}'
        "</button></div>"
        f"<pre><code>{highlight_code(code, language)}</code></pre></div>\n"
    )
