"""Rendering a streamed answer with bounded work per update.

Re-rendering the whole message on every token costs O(n²) over an answer (and the
browser pays the same again replacing the DOM). Instead the text is split into
top-level Markdown blocks (markdown-it's `token.map` line ranges):

- every block except the last is *frozen*: rendered once, sent once
  (`frozen_html_appended`, which the client appends), never parsed again;
- the last block, the *tail* (a growing paragraph, an open code fence, a list),
  is re-rendered and replaced (`tail_html`);
- only the unfrozen suffix of the text is passed to the parser.

A block is frozen only when no future text can change it. Its successor must
start on a complete line (a half-written "***" may still become "***x"), and that
line must be preceded by a blank line or be followed by another complete line
(a table header only becomes a table when its delimiter row is complete, and it
may interrupt the paragraph above). With reference definitions disabled (see
parser.py) nothing later in a document changes an earlier block, so the frozen
parts plus the final tail equal `render_markdown` of the whole text.

Amortised cost. The tail is re-rendered once the text received since its last
render, g, reaches `max(min_step, growth_ratio * T)`, T being the tail's size at
that render. The parse then reads T + g <= g * (1 + 1 / growth_ratio) characters;
summed over an answer of n characters that is at most (1 + 1 / growth_ratio) * n
(3n by default), plus the forced splits below: linear whatever the delta size. In between, the
characters not yet rendered come back as `raw_text_appended` for the client to
show as plain text (set with textContent) after the tail, so nothing lags on
screen.

Tail cap. A long loose list is one block, so its tail would grow without bound.
When the tail passes `max_tail_chars`, it is frozen up to its last blank line that
is followed by an unindented line (the start of the next item). The list is then
rendered as two adjacent lists (an ordered one continues with `start=`), a small
visual difference from the full render, which is used once the message is stored.
Code fences and math blocks are never split this way: splitting would change
their content; their cost stays amortised linear, though one update may parse the
whole open fence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chatapp.rendering.parser import default_pipeline

if TYPE_CHECKING:
    from collections.abc import Sequence

    from markdown_it.token import Token

    from chatapp.rendering.parser import MarkdownPipeline

_NEWLINES_RE = re.compile(r"\r\n?")
_UNSPLITTABLE = frozenset({"fence", "code_block", "math_block"})


@dataclass(frozen=True, slots=True)
class RenderUpdate:
    """What changed since the previous update.

    The client appends `frozen_html_appended` to the frozen part; if `tail_html` is
    not None it replaces the tail and clears the raw text shown after it; it then
    appends `raw_text_appended` as plain text after the tail.
    """

    frozen_html_appended: str
    tail_html: str | None
    frozen_block_count: int
    raw_text_appended: str = ""


def _line_starts(text: str) -> list[int]:
    starts = [0]
    position = text.find("\n")
    while position >= 0:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts


def _top_level_blocks(tokens: Sequence[Token]) -> list[tuple[int, int, int]]:
    """(token index, first line, end line) of each top-level block."""
    return [
        (index, token.map[0], token.map[1])
        for index, token in enumerate(tokens)
        if token.level == 0 and token.nesting >= 0 and token.map
    ]


class StreamingRenderer:
    """Renders one streamed answer; create one per message.

    Not thread-safe (it holds the answer's state); the pipeline it uses is shared.
    """

    def __init__(
        self,
        *,
        pipeline: MarkdownPipeline | None = None,
        min_step: int = 32,
        growth_ratio: float = 0.5,
        max_tail_chars: int = 8192,
    ) -> None:
        self._pipeline = pipeline or default_pipeline()
        self._min_step = min_step
        self._growth_ratio = growth_ratio
        self._max_tail_chars = max_tail_chars
        self._unfrozen = ""  # text after the frozen prefix, as of the last render
        self._pending: list[str] = []  # deltas received since the last render
        self._pending_chars = 0
        self._last_was_cr = False
        self._frozen_blocks = 0
        self._finished = False
        self._parsed_chars = 0

    @property
    def parsed_chars(self) -> int:
        """Characters passed to the Markdown parser so far (the cost measure)."""
        return self._parsed_chars

    def update(self, delta: str) -> RenderUpdate:
        """Add `delta` to the answer and return what changed."""
        if self._finished:
            raise RuntimeError("finish() was already called on this renderer")
        delta = self._normalise(delta)
        self._pending.append(delta)
        self._pending_chars += len(delta)
        threshold = max(self._min_step, self._growth_ratio * len(self._unfrozen))
        if self._pending_chars < threshold:
            return RenderUpdate("", None, self._frozen_blocks, raw_text_appended=delta)
        return self._render()

    def finish(self) -> RenderUpdate:
        """Render the rest of the answer as frozen blocks; the tail becomes empty."""
        if self._finished:
            raise RuntimeError("finish() was already called on this renderer")
        self._finished = True
        text = self._take_text()
        tokens = self._parse(text)
        self._frozen_blocks += len(_top_level_blocks(tokens))
        self._unfrozen = ""
        return RenderUpdate(self._pipeline.render(tokens), "", self._frozen_blocks)

    def _normalise(self, delta: str) -> str:
        # markdown-it reads "\r\n" and "\r" as "\n"; line offsets must agree with it
        # even when a "\r\n" pair is split across two deltas.
        if self._last_was_cr and delta.startswith("\n"):
            delta = delta[1:]
            self._last_was_cr = False
        if delta:
            self._last_was_cr = delta.endswith("\r")
        return _NEWLINES_RE.sub("\n", delta)

    def _take_text(self) -> str:
        text = self._unfrozen + "".join(self._pending)
        self._pending.clear()
        self._pending_chars = 0
        return text

    def _parse(self, text: str) -> list[Token]:
        self._parsed_chars += len(text)
        return self._pipeline.parse(text)

    def _render(self) -> RenderUpdate:
        text = self._take_text()
        tokens = self._parse(text)
        blocks = _top_level_blocks(tokens)
        starts = _line_starts(text)
        last_line = len(starts) - 1  # the line after the last "\n": still being written

        first_open = 0  # index in `blocks` of the first block that stays unfrozen
        for position in range(len(blocks) - 1, 0, -1):
            line = blocks[position][1]
            # Blank as Markdown means it: spaces and tabs only (not NBSP).
            settled = line <= last_line - 2 or (
                line <= last_line - 1 and not text[starts[line - 1] : starts[line]].strip(" \t\n")
            )
            if settled:
                first_open = position
                break

        frozen_html = ""
        if first_open:
            split_token = blocks[first_open][0]
            frozen_html = self._pipeline.render(tokens[:split_token])
            self._frozen_blocks += first_open
            tokens = tokens[split_token:]
            text = text[starts[blocks[first_open][1]] :]
            blocks = _top_level_blocks(tokens)

        if len(text) > self._max_tail_chars and blocks:
            forced = self._force_split(text, tokens[blocks[0][0]])
            if forced is not None:
                frozen_part, text = forced
                frozen_tokens = self._parse(frozen_part)
                frozen_html += self._pipeline.render(frozen_tokens)
                self._frozen_blocks += len(_top_level_blocks(frozen_tokens))
                tokens = self._parse(text)

        self._unfrozen = text
        return RenderUpdate(frozen_html, self._pipeline.render(tokens), self._frozen_blocks)

    def _force_split(self, text: str, first_block: Token) -> tuple[str, str] | None:
        """(part to freeze, new tail) at the tail's last blank line followed by an
        unindented complete line, or None if there is no such place or the block
        must not be split. The new tail must be at most half the cap, so forced
        splits are at least half a cap of new text apart (amortised linear)."""
        if first_block.type in _UNSPLITTABLE:
            return None
        complete = text[: text.rfind("\n") + 1]
        position = len(complete)
        while True:
            position = complete.rfind("\n\n", 0, position)
            if position < 0:
                return None
            cut = position + 2
            if len(text) - cut > self._max_tail_chars // 2:
                return None
            line_end = complete.find("\n", cut)
            if line_end > cut and not complete[cut].isspace():
                return text[:cut], text[cut:]
