"""LaTeX math in model output: markdown-it rules and LaTeX → MathML conversion.

Delimiters, as LLMs write them:

- inline `$...$`: the opening `$` must be followed by a non-space, the closing `$`
  (the first unescaped one) preceded by a non-space and not followed by a digit,
  so prose such as "costs $5 and $10" stays text (the rule pandoc uses);
- inline `\\(...\\)`;
- display `$$...$$` and `\\[...\\]`, either inside a paragraph or as a block of
  their own lines. A display block may not contain a blank line (one ends the
  attempt and the lines are read as paragraphs); one left open at the end of the
  text runs to the end, like an unclosed code fence, so a streamed formula stays
  one block until its closing delimiter arrives.

Being markdown-it rules, math is never looked for inside code spans or code blocks.

The conversion uses latex2mathml (pure Python). Its element tree, not its string
output, is serialised here through an allowlist: the library's own `convert()`
unescapes its serialised XML, which would turn `\\text{<script>}` into markup.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from latex2mathml import exceptions as latex_errors
from latex2mathml.converter import convert_to_element
from markdown_it.common.utils import escapeHtml

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_inline import StateInline

MATHML_TAGS = frozenset(
    {
        "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub",
        "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover",
        "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose",
        "merror", "mmultiscripts", "mprescripts", "none",
    }
)  # fmt: skip
# Presentation attributes only. Dropped on purpose: href (a link target on
# MathML elements in some browsers), mathcolor/mathbackground, style, class, id,
# and maction's actiontype (maction is not allowed at all).
MATHML_ATTRIBUTES = frozenset(
    {
        "display", "mathvariant", "mathsize", "stretchy", "fence", "separator",
        "lspace", "rspace", "accent", "accentunder", "columnalign", "rowalign",
        "columnspacing", "rowspacing", "columnlines", "rowlines", "frame",
        "displaystyle", "scriptlevel", "linethickness", "minsize", "maxsize",
        "movablelimits", "symmetric", "largeop", "form", "width", "height", "depth",
        "notation",
    }
)  # fmt: skip

# Bounds on the work one formula may cause: latex2mathml is roughly linear in the
# source but recursive in its nesting.
MAX_MATH_SOURCE = 4000
MAX_MATH_DEPTH = 64
# Macro definitions are refused: nested definitions expand exponentially (a
# "billion laughs" in a few hundred characters), and chat answers don't need them.
_MACRO_DEFINITION_RE = re.compile(
    r"\\(?:[gex]?def|(?:re)?newcommand|providecommand|let)(?![a-zA-Z])"
)

# Everything latex2mathml is known to raise on malformed LaTeX: its own
# exceptions plus the built-in ones its tokenizer and walker let escape.
_CONVERSION_ERRORS: tuple[type[BaseException], ...] = (
    *(
        value
        for value in vars(latex_errors).values()
        if isinstance(value, type) and issubclass(value, Exception)
    ),
    StopIteration,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    RecursionError,
)

_DELIMITERS = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}


class MathConversionError(ValueError):
    """The LaTeX could not be turned into allowed MathML."""


def _serialise(element: Element, out: list[str], depth: int) -> None:
    """Append `element` as MathML, keeping allowlisted elements and attributes only.

    An element outside the allowlist is dropped with its content. Text is
    unescaped first because latex2mathml stores symbols as character references
    ("&#x0003D;"), then escaped again, so no markup can come from the source.
    """
    if depth > MAX_MATH_DEPTH:
        raise MathConversionError("formula nested too deeply")
    if element.tag in MATHML_TAGS:
        attributes = "".join(
            f' {name}="{escapeHtml(value)}"'
            for name, value in sorted(element.attrib.items())
            if name in MATHML_ATTRIBUTES
        )
        out.append(f"<{element.tag}{attributes}>")
        if element.text:
            out.append(escapeHtml(html.unescape(element.text)))
        for child in element:
            _serialise(child, out, depth + 1)
        out.append(f"</{element.tag}>")
    if element.tail and depth > 0:
        out.append(escapeHtml(html.unescape(element.tail)))


def latex_to_mathml(source: str, *, display: bool) -> str:
    """Sanitised MathML for `source`; raises MathConversionError if it can't be converted."""
    if len(source) > MAX_MATH_SOURCE:
        raise MathConversionError("formula too long")
    if _MACRO_DEFINITION_RE.search(source):
        raise MathConversionError("macro definitions are not supported")
    try:
        root = convert_to_element(source, display="block" if display else "inline")
    except _CONVERSION_ERRORS as error:
        raise MathConversionError(str(error)) from error
    out: list[str] = []
    _serialise(root, out, 0)
    return "".join(out)


def render_math(source: str, markup: str, *, display: bool) -> str:
    """MathML for the formula, or its source in <code class="md-math-error"> if the
    LaTeX is malformed (the reader still sees what the model wrote)."""
    try:
        return latex_to_mathml(source, display=display)
    except MathConversionError:
        closing = _DELIMITERS.get(markup, markup)
        return f'<code class="md-math-error">{escapeHtml(markup + source + closing)}</code>'


def _is_escaped(src: str, pos: int) -> bool:
    """True if the character at `pos` is preceded by an odd number of backslashes."""
    backslashes = 0
    while pos - backslashes - 1 >= 0 and src[pos - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _find_closing(src: str, closer: str, start: int, end: int) -> int:
    """Index of the first unescaped `closer` in src[start:end], or -1."""
    pos = src.find(closer, start, end)
    while pos >= 0 and _is_escaped(src, pos):
        pos = src.find(closer, pos + 1, end)
    return pos


def _single_dollar_end(src: str, start: int, end: int) -> int:
    """Index of the `$` closing inline math opened just before `start`, or -1."""
    if start >= end or src[start].isspace():
        return -1
    close = _find_closing(src, "$", start, end)
    if close <= start or src[close - 1].isspace():
        return -1
    if close + 1 < end and src[close + 1].isdigit():
        return -1
    return close


def math_inline_rule(state: StateInline, silent: bool) -> bool:
    """markdown-it inline rule for `$x$`, `$$x$$`, `\\(x\\)` and `\\[x\\]`."""
    src, pos, end = state.src, state.pos, state.posMax
    if src.startswith("$$", pos):
        opener = "$$"
    elif src.startswith("$", pos):
        opener = "$"
    elif src.startswith(("\\(", "\\["), pos):
        opener = src[pos : pos + 2]
    else:
        return False
    closer = _DELIMITERS[opener]
    # Many openers without any closer after them would make each attempt scan to
    # the end of the paragraph; the cached last position answers that in O(1).
    if state.html_terminator_last(closer) < pos + len(opener):
        return False
    if opener == "$":
        close = _single_dollar_end(src, pos + 1, end)
    else:
        close = _find_closing(src, closer, pos + len(opener), end)
    content_start = pos + len(opener)
    if close <= content_start or not src[content_start:close].strip():
        return False
    if not silent:
        display = opener in ("$$", "\\[")
        token = state.push("math_display" if display else "math_inline", "math", 0)
        token.content = src[content_start:close]
        token.markup = opener
    state.pos = close + len(closer)
    return True


def _line_text(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]


def math_block_rule(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """markdown-it block rule for display math on lines of its own:

        $$                          \\[
        \\int_0^1 x^2\\,dx            E = mc^2
        $$                          \\]

    (or `$$ ... $$` on one line). It cannot interrupt a paragraph; there the inline
    rule renders the same formula as display math inside the paragraph.
    """
    if state.is_code_block(start_line):
        return False
    first = _line_text(state, start_line).rstrip()
    opener = next((mark for mark in ("$$", "\\[") if first.startswith(mark)), None)
    if opener is None:
        return False
    closer = _DELIMITERS[opener]
    rest = first[len(opener) :]
    lines: list[str] = []
    next_line = start_line
    if rest.endswith(closer) and rest[: -len(closer)].strip():
        lines.append(rest[: -len(closer)])
    elif closer in rest:
        # "$$a$$ and more": display math inside a paragraph, not a block.
        return False
    else:
        lines.append(rest)
        while True:
            next_line += 1
            if next_line >= end_line:
                # Unclosed: the block runs to the end, like an unclosed fence.
                next_line -= 1
                break
            if state.isEmpty(next_line) or state.sCount[next_line] < state.blkIndent:
                return False
            text = _line_text(state, next_line).rstrip()
            if text.endswith(closer) and not _is_escaped(text, len(text) - len(closer)):
                lines.append(text[: -len(closer)])
                break
            lines.append(text)
    if not "\n".join(lines).strip():
        return False
    if silent:
        return True
    state.line = next_line + 1
    token = state.push("math_block", "math", 0)
    token.content = "\n".join(lines).strip()
    token.markup = opener
    token.map = [start_line, state.line]
    return True


def use_math(md: MarkdownIt) -> None:
    """Install the math rules on a markdown-it instance (rendering is in renderer.py)."""
    # Before "escape", so `\(` and `\[` are seen before they become literal brackets.
    md.inline.ruler.before("escape", "math_inline", math_inline_rule)
    md.block.ruler.before("fence", "math_block", math_block_rule)
