"""The only code that turns model output (Markdown written by an LLM) into HTML.

`render_markdown(text)` renders a whole message; `StreamingRenderer` renders one
that is still arriving, with bounded work per update (see streaming.py).

Layers of safety, each enough on its own for the common attacks:

1. markdown-it with `html=False`: raw HTML in the text is escaped;
2. our renderer rules write only allowlisted markup: links to http(s), mailto
   or relative URLs (others stay text), remote images as click-to-load buttons,
   MathML through an element and attribute allowlist;
3. nh3 (ammonia) sanitises the final HTML against the same allowlist.

The output has no inline style or script, as the Content-Security-Policy requires;
its classes are styled in static/css/app.css and its buttons are wired by
static/js/rendered.js. Labels ("Copy", "Show image") are translated with the
active language at render time.
"""

from __future__ import annotations

from chatapp.rendering.parser import MarkdownPipeline, default_pipeline
from chatapp.rendering.streaming import RenderUpdate, StreamingRenderer

__all__ = [
    "MarkdownPipeline",
    "RenderUpdate",
    "StreamingRenderer",
    "default_pipeline",
    "render_markdown",
]


def render_markdown(text: str) -> str:
    """Sanitised HTML for a whole model answer."""
    pipeline = default_pipeline()
    return pipeline.render(pipeline.parse(text))
