"""Rendering model output: Markdown features, sanitisation, bounded streaming."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from chatapp.rendering import RenderUpdate, StreamingRenderer, render_markdown
from chatapp.rendering.mathml import latex_to_mathml
from chatapp.rendering.sanitize import build_cleaner

# --- helpers -----------------------------------------------------------------

FORBIDDEN_TAGS = frozenset(
    {"script", "style", "iframe", "img", "object", "embed", "svg", "form", "input",
     "link", "meta", "base", "frame", "frameset", "maction", "annotation-xml"}
)  # fmt: skip
URL_ATTRIBUTES = frozenset({"href", "src", "data-src", "action", "formaction", "xlink:href"})
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
_BROWSER_IGNORED = re.compile(r"[\x00-\x20\x7f]+")


@dataclass
class Element:
    tag: str
    attributes: dict[str, str]


class ElementCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {name: value or "" for name, value in attrs}))


def elements_of(html: str) -> list[Element]:
    collector = ElementCollector()
    collector.feed(html)
    collector.close()
    return collector.elements


def assert_safe(html: str) -> None:
    """No script-capable element, event handler, style, or script/data URL."""
    for element in elements_of(html):
        assert element.tag not in FORBIDDEN_TAGS, html
        for name, value in element.attributes.items():
            assert not name.startswith("on"), html
            assert name not in {"style", "srcdoc", "actiontype"}, html
            if name in URL_ATTRIBUTES:
                # HTMLParser has already unescaped entities in the value.
                cleaned = _BROWSER_IGNORED.sub("", value).lower()
                assert not cleaned.startswith(BAD_SCHEMES), html


def tags_of(html: str) -> list[str]:
    return [element.tag for element in elements_of(html)]


def stream(text: str, sizes: list[int], renderer: StreamingRenderer) -> str:
    """Feed `text` in pieces of the given sizes (cycled); return frozen parts + tail."""
    parts: list[str] = []
    position = 0
    index = 0
    while position < len(text):
        size = sizes[index % len(sizes)]
        update = renderer.update(text[position : position + size])
        parts.append(update.frozen_html_appended)
        position += size
        index += 1
    final = renderer.finish()
    parts.append(final.frozen_html_appended)
    assert final.tail_html == ""
    return "".join(parts)


# --- Markdown features ------------------------------------------------------


def test_headings_lists_and_emphasis() -> None:
    # given
    text = "# 제목\n\n## Sub\n\n- one\n- two\n\n1. first\n2. second\n\n~~old~~ *it* **bold**"
    # when
    html = render_markdown(text)
    # then
    assert "<h1>제목</h1>" in html
    assert "<h2>Sub</h2>" in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert "<ol>\n<li>first</li>" in html
    assert "<s>old</s> <em>it</em> <strong>bold</strong>" in html


def test_korean_text_is_kept_intact() -> None:
    html = render_markdown("한국어 **굵게** 그리고 `코드`")
    assert html == "<p>한국어 <strong>굵게</strong> 그리고 <code>코드</code></p>\n"


def test_table_is_wrapped_in_a_scroll_container_with_alignment_classes() -> None:
    # given
    text = "| 이름 | 값 |\n|:---|---:|\n| a | 1 |"
    # when
    html = render_markdown(text)
    # then
    assert html.startswith('<div class="md-table"><table>')
    assert '<th class="md-align-left">이름</th>' in html
    assert '<td class="md-align-right">1</td>' in html
    assert "style" not in html


def test_external_link_opens_safely_and_relative_link_stays_plain() -> None:
    # when
    html = render_markdown("[docs](https://example.com/a?b=1) [home](/chat/) [top](#top)")
    # then
    assert (
        '<a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer">docs</a>'
        in html
    )
    assert '<a href="/chat/">home</a>' in html
    assert '<a href="#top">top</a>' in html


def test_autolink_and_mailto() -> None:
    html = render_markdown("<https://example.com> [mail](mailto:a@example.com)")
    assert 'href="https://example.com" target="_blank"' in html
    assert '<a href="mailto:a@example.com">mail</a>' in html


def test_fenced_code_has_label_copy_button_and_highlighting() -> None:
    # given
    text = "```python\ndef f(x):\n    return x  # <tag>\n```"
    # when
    html = render_markdown(text)
    # then
    assert html.startswith('<div class="md-code"><div class="md-code-head">')
    assert '<span class="md-code-lang">python</span>' in html
    assert '<button type="button" class="md-copy" data-copy=""' in html
    assert '<span class="k">def</span>' in html
    assert '<span class="nf">f</span>' in html
    assert "&lt;tag&gt;" in html
    assert "style=" not in html


def test_unknown_language_is_plain_escaped_text_with_escaped_label() -> None:
    # when
    html = render_markdown('```no-such-lang"<b>\n<b>bold?</b>\n```')
    # then
    assert '<span class="md-code-lang">no-such-lang"&lt;b&gt;</span>' in html
    assert "<pre><code>&lt;b&gt;bold?&lt;/b&gt;\n</code></pre>" in html
    assert "<span class=" not in html.split("<pre>")[1]


def test_code_without_language_has_no_label() -> None:
    html = render_markdown("```\nplain\n```\n\n    indented")
    assert "md-code-lang" not in html
    assert html.count('class="md-copy"') == 2


# --- math --------------------------------------------------------------------


def test_inline_math_becomes_mathml() -> None:
    # when
    html = render_markdown("에너지는 $E=mc^2$ 이다")
    # then
    assert '<math display="inline">' in html
    assert "<mi>E</mi><mo>=</mo><mi>m</mi><msup><mi>c</mi><mn>2</mn></msup>" in html


@pytest.mark.parametrize(
    "text",
    ["$$\\int_0^1 x^2\\,dx$$", "$$\n\\int_0^1 x^2\\,dx\n$$", "\\[\n\\int_0^1 x^2\\,dx\n\\]"],
)
def test_display_math_block_becomes_block_mathml(text: str) -> None:
    # when
    html = render_markdown(text)
    # then
    assert html.startswith('<div class="md-math"><math display="block">')
    assert "<msubsup><mo>∫</mo><mn>0</mn><mn>1</mn></msubsup>" in html


def test_display_math_inside_a_paragraph_and_paren_delimiters() -> None:
    # when
    html = render_markdown("The formula:\n$$\na^2\n$$\nand \\(b_1\\) and \\[c\\].")
    # then
    assert html.startswith("<p>The formula:")
    assert html.count('<math display="block">') == 2
    assert '<math display="inline"><mrow><msub><mi>b</mi><mn>1</mn></msub>' in html


@pytest.mark.parametrize(
    "text",
    [
        "It costs $5 and $10.",
        "Between $5-$10 per item",
        "Price: $ 5 and 6 $",
        "US$5, US$6",
        "Escaped \\$x\\$ stays",
    ],
)
def test_dollar_amounts_are_not_math(text: str) -> None:
    html = render_markdown(text)
    assert "<math" not in html
    assert "$" in html


def test_math_is_left_alone_in_code() -> None:
    html = render_markdown("`$x$` and\n\n```\n$$y$$\n```")
    assert "<math" not in html
    assert "<code>$x$</code>" in html


def test_malformed_latex_shows_its_source() -> None:
    html = render_markdown("bad: $\\frac{1}{$ end")
    assert '<code class="md-math-error">$\\frac{1}{$</code>' in html


@pytest.mark.parametrize(
    "latex",
    [
        "\\def\\a{xx}\\def\\b{\\a\\a}\\b",
        "\\newcommand{\\a}{x}\\a",
        "\\renewcommand\\b{y}",
        "{" * 5000 + "x" + "}" * 5000,
        "{" * 1500 + "x" + "}" * 1500,
        "x+" * 3000,
    ],
)
def test_costly_latex_is_refused_and_shown_as_source(latex: str) -> None:
    html = render_markdown(f"${latex}$")
    assert html.startswith('<p><code class="md-math-error">$')
    assert "<math" not in html


def test_mathml_attributes_are_allowlisted() -> None:
    # given LaTeX that makes latex2mathml emit an href and a colour
    # when
    mathml = latex_to_mathml("\\href{javascript:alert(1)}{x} \\color{red}{y}", display=False)
    # then
    assert "href" not in mathml
    assert "javascript" not in mathml
    assert "mathcolor" not in mathml
    assert "<mi>x</mi>" in mathml


def test_text_in_latex_cannot_become_markup() -> None:
    html = render_markdown("$\\text{<script>alert(1)</script>}$ $\\operatorname{<b>}$")
    assert "<script" not in html
    assert "&lt;script&gt;" in html
    assert_safe(html)


# --- sanitisation -------------------------------------------------------------

XSS_CASES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<p style=\"color:red\" onclick='alert(1)'>x</p>",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=https://evil.example></iframe>",
    "<math><maction actiontype=statusline>x</maction></math>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](<java\tscript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript&colon;alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](file:///etc/passwd)",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<javascript:alert(1)>",
    "<data:text/html,x>",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](javascript:alert(1))",
    "![x](/relative/tracker.png)",
    '![a" onerror="alert(1)](https://evil.example/i.png)',
    "[**bold** [inner](javascript:alert(1))](https://ok.example)",
    "[![img](javascript:alert(1))](javascript:alert(2))",
    '[x](https://ok.example "t" onmouseover=alert(1))',
    "$\\href{javascript:alert(1)}{x}$",
    "$$\\href{javascript:alert(1)}{\\text{click}}$$",
    "$\\style{color:red}{x}$",
    "$\\text{<img src=x onerror=alert(1)>}$",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    '```" onmouseover="alert(1)\nx\n```',
    "```html\n<script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<!-- comment --><style>body{}</style>",
]


@pytest.mark.parametrize("text", XSS_CASES)
def test_xss_battery_renders_nothing_executable(text: str) -> None:
    # when
    html = render_markdown(text)
    # then
    assert_safe(html)


def test_xss_battery_is_safe_in_every_streamed_update() -> None:
    # given every attack string, streamed a few characters at a time
    for text in XSS_CASES:
        renderer = StreamingRenderer(min_step=1, growth_ratio=0.0)
        # when
        updates = [renderer.update(text[i : i + 3]) for i in range(0, len(text), 3)]
        updates.append(renderer.finish())
        # then no intermediate tail (a half-written link or tag) is unsafe either
        for update in updates:
            assert_safe(update.frozen_html_appended)
            assert_safe(update.tail_html or "")


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html,hello)",
        "[x](vbscript:msgbox(1))",
    ],
)
def test_refused_links_are_plain_text(text: str) -> None:
    html = render_markdown(text)
    assert "<a" not in html
    assert "[x](" in html


def test_raw_html_is_escaped_not_passed_through() -> None:
    html = render_markdown("<b onclick=alert(1)>hi</b>")
    assert html == "<p>&lt;b onclick=alert(1)&gt;hi&lt;/b&gt;</p>\n"


def test_remote_image_is_a_click_to_load_button_not_an_img() -> None:
    # when
    html = render_markdown("![차트](https://evil.example/img.png?u=1&v=2)")
    # then
    assert "img" not in tags_of(html)
    [button] = [e for e in elements_of(html) if e.tag == "button"]
    assert button.attributes == {
        "type": "button",
        "class": "md-image",
        "data-src": "https://evil.example/img.png?u=1&v=2",
        "data-alt": "차트",
    }
    assert "evil.example" in html


@pytest.mark.parametrize(
    "text", ["![x](data:image/png;base64,iVBORw0KGgo=)", "![x](/local.png)", "![x](ftp://a/b.png)"]
)
def test_images_other_than_http_are_refused(text: str) -> None:
    html = render_markdown(text)
    assert "md-image" not in html.replace("md-image-blocked", "")
    assert "img" not in tags_of(html)
    assert "data-src" not in html


def test_sanitiser_is_a_safety_net_on_its_own() -> None:
    # given HTML no renderer rule writes
    cleaner = build_cleaner()
    dirty = (
        '<a href="javascript:alert(1)" onclick="x()" target="_top" rel="opener">a</a>'
        '<button type="submit" class="md-image evil" data-src="data:image/png,x">b</button>'
        '<span class="k" style="color:red">c</span><img src="https://x/y.png">'
        '<math><mi href="javascript:alert(1)">d</mi><maction actiontype="x">e</maction></math>'
        "<script>alert(1)</script>"
    )
    # when
    clean = cleaner.clean(dirty)
    # then (a refused element's text is kept, its markup is not)
    assert_safe(clean)
    assert clean == (
        '<a>a</a><button class="md-image">b</button><span class="k">c</span>'
        "<math><mi>d</mi>e</math>"
    )


# --- streaming ------------------------------------------------------------------

TRICKY_DOCUMENTS = [
    "abc\n***x and more\n\nnext",
    "abc\n***\n\nafter the rule",
    "text\na | b\n|-|-x\nmore\n\nend",
    "text\na | b\n|---|---|\n| 1 | 2 |\n\nafter",
    "\u00a0\na | b\n|-|-x\n\nend",
    "Title\n---\n\nbody\n===\n",
    "> quote\nlazy line\n\n> another\n\nplain",
    "- a\n- b\n\n  continued\n- c\n\nafter list\n\n1. x\n2. y\n",
    "    code\n\n    more code\n\nparagraph",
    "```python\nx = 1\n\n\ny = 2\n```\nafter fence\n\n```\nunclosed\n\nfence",
    "$$\nx^2\n\nnot math\n$$\n\n$$\n\\int_0^1 x\\,dx\n$$\n\n\\[\ny\n\\]\ntext",
    "line one  \nhard break\r\nwindows line\r\n\r\nnext paragraph\rold mac",
    "# 제목\n한국어 **굵게** $E=mc^2$ 가격은 $5 and $10\n\n|a|b|\n|-|-|\n|1|2|\n",
    "para\n# heading\npara\n```\ncode\n```\n- item\n> quote\n",
    "[link](https://example.com) ![img](https://example.com/i.png)\n\n---\n\n***\n",
]


def generated_document(seed: int, target_chars: int) -> str:
    """A long answer mixing every block type the renderer treats specially."""
    rng = random.Random(seed)
    words = ["데이터", "모델", "token", "render", "**굵게**", "`code`", "$x^2$", "$5", "and",
             "[link](https://example.com/x)", "*em*", "~~old~~", "값은", "\\(a+b\\)"]  # fmt: skip

    def sentence() -> str:
        return " ".join(rng.choice(words) for _ in range(rng.randint(4, 14))) + "."

    def paragraph() -> str:
        return "\n".join(sentence() for _ in range(rng.randint(1, 5)))

    def block() -> str:
        kind = rng.randrange(10)
        if kind == 0:
            return "#" * rng.randint(1, 3) + " " + sentence()
        if kind == 1:
            sep = "\n\n" if rng.random() < 0.5 else "\n"
            return sep.join(f"- {sentence()}" for _ in range(rng.randint(2, 8)))
        if kind == 2:
            return "\n".join(f"{i}. {sentence()}" for i in range(1, rng.randint(3, 8)))
        if kind == 3:
            rows = "\n".join(f"| {rng.randint(1, 99)} | {sentence()} |" for _ in range(5))
            return f"| 번호 | 설명 |\n|---:|:---|\n{rows}"
        if kind == 4:
            language = rng.choice(["python", "js", "sql", "", "nolang"])
            lines = "\n".join(f"x_{i} = {i} * 2  # {sentence()}" for i in range(rng.randint(3, 25)))
            return f"```{language}\n{lines}\n\n```"
        if kind == 5:
            return rng.choice(["$$\n\\sum_{i=1}^n i^2\n$$", "\\[\n\\frac{a}{b}\n\\]"])
        if kind == 6:
            return "> " + sentence() + "\n" + sentence()
        if kind == 7:
            return paragraph() + "\n$$\nE = mc^2\n$$"
        return paragraph()

    blocks: list[str] = []
    size = 0
    while size < target_chars:
        blocks.append(block())
        size += len(blocks[-1]) + 2
    return "\n\n".join(blocks)


@pytest.mark.parametrize("document", TRICKY_DOCUMENTS)
def test_streamed_parts_equal_the_full_render_at_every_split(document: str) -> None:
    # given a renderer that re-renders on every delta (the most freezing decisions)
    rng = random.Random(7)
    for _ in range(20):
        sizes = [rng.randint(1, 6) for _ in range(30)]
        renderer = StreamingRenderer(min_step=1, growth_ratio=0.0)
        # when
        streamed = stream(document, sizes, renderer)
        # then
        assert streamed == render_markdown(document)


def test_streamed_parts_equal_the_full_render_for_long_documents() -> None:
    rng = random.Random(11)
    for seed in range(3):
        # given
        document = generated_document(seed, 6000)
        sizes = [rng.randint(1, 12) for _ in range(50)]
        # when every delta re-renders, and with the default amortised policy
        eager = stream(document, sizes, StreamingRenderer(min_step=1, growth_ratio=0.0))
        amortised = stream(document, sizes, StreamingRenderer())
        # then
        expected = render_markdown(document)
        assert eager == expected
        assert amortised == expected


def test_updates_freeze_blocks_and_leave_the_open_one_as_tail() -> None:
    # given
    renderer = StreamingRenderer(min_step=1, growth_ratio=0.0)
    # when
    first = renderer.update("# 제목\n\n첫 문단.\n\n")
    second = renderer.update("```python\nx = 1\n")
    # then the heading and paragraph are frozen; the open fence is the tail
    assert first.frozen_html_appended == "<h1>제목</h1>\n"
    assert first.tail_html == "<p>첫 문단.</p>\n"
    assert second.frozen_html_appended == "<p>첫 문단.</p>\n"
    assert second.frozen_block_count == 2
    assert second.tail_html is not None
    assert second.tail_html.startswith('<div class="md-code">')


def test_crlf_split_across_deltas_counts_as_one_line_break() -> None:
    # given
    renderer = StreamingRenderer(min_step=1, growth_ratio=0.0)
    # when
    parts = [renderer.update(delta).frozen_html_appended for delta in ["a\r", "\n", "\n", "b"]]
    parts.append(renderer.finish().frozen_html_appended)
    # then
    assert "".join(parts) == render_markdown("a\r\n\nb") == "<p>a</p>\n<p>b</p>\n"


def test_between_renders_the_raw_delta_is_returned_as_text() -> None:
    # given
    renderer = StreamingRenderer(min_step=100)
    # when
    update = renderer.update("**<b>굵")
    # then nothing is rendered yet; the raw text is for textContent display
    assert update == RenderUpdate("", None, 0, raw_text_appended="**<b>굵")


def test_finished_renderer_refuses_more_text() -> None:
    renderer = StreamingRenderer()
    renderer.update("a")
    renderer.finish()
    with pytest.raises(RuntimeError):
        renderer.update("b")


def test_streaming_parse_work_is_linear_for_a_20000_token_answer() -> None:
    # given an ~80,000-character answer fed in 4-character deltas
    document = generated_document(1, 80_000)
    renderer = StreamingRenderer()
    # when
    streamed = stream(document, [4], renderer)
    # then the parser saw each character a small constant number of times
    assert len(document) >= 80_000
    assert renderer.parsed_chars < 5 * len(document)
    assert streamed == render_markdown(document)


def test_streaming_parse_work_doubles_when_the_answer_doubles() -> None:
    # given
    short, long = generated_document(2, 20_000), generated_document(2, 40_000)
    short_renderer, long_renderer = StreamingRenderer(), StreamingRenderer()
    # when
    stream(short, [3, 5], short_renderer)
    stream(long, [3, 5], long_renderer)
    # then (quadratic work would quadruple)
    ratio = (long_renderer.parsed_chars / len(long)) / (short_renderer.parsed_chars / len(short))
    assert ratio < 1.3


def test_long_loose_list_is_split_so_the_tail_stays_bounded() -> None:
    # given a loose list far longer than the tail cap
    items = "\n\n".join(f"- 항목 {i}: " + "내용 " * 20 for i in range(200))
    renderer = StreamingRenderer(min_step=1, growth_ratio=0.0, max_tail_chars=2000)
    # when
    tails: list[int] = []
    frozen: list[str] = []
    for start in range(0, len(items), 8):
        update = renderer.update(items[start : start + 8])
        frozen.append(update.frozen_html_appended)
        if update.tail_html is not None:
            tails.append(len(update.tail_html))
    frozen.append(renderer.finish().frozen_html_appended)
    html = "".join(frozen)
    # then
    assert max(tails) < 4000
    assert html.count("<li>") == 200
    assert html.count("<ul>") > 1
    assert_safe(html)


def test_long_code_fence_is_never_split() -> None:
    # given
    code = "```python\n" + "\n\n".join(f"x = {i}" for i in range(2000)) + "\n```\n"
    renderer = StreamingRenderer(max_tail_chars=1000)
    # when
    html = stream(code, [7], renderer)
    # then
    assert html == render_markdown(code)
    assert html.count('class="md-code"') == 1
