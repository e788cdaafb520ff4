"""A heatmap of milliseconds as a server-rendered SVG (no script, CSP-safe).

Pure: a matrix in, markup out. Every text that comes from data (model names,
labels) goes through ``format_html``'s escaping; the only ``mark_safe`` wraps the
joined pieces this module built itself.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from collections.abc import Sequence

# ColorBrewer YlOrRd, 7 classes: a sequential scale, light = fast, dark red = slow,
# readable by people with the common colour-vision deficiencies.
PALETTE: tuple[str, ...] = (
    "#ffffb2",
    "#fed976",
    "#feb24c",
    "#fd8d3c",
    "#fc4e2a",
    "#e31a1c",
    "#b10026",
)
CELL_WIDTH = 32
CELL_HEIGHT = 28
GAP = 2
TICK_HEIGHT = 30
LEGEND_HEIGHT = 46
SWATCH_WIDTH = 60
LEGEND_X = 4
LEGEND_GAP = 10
FONT_SIZE = 12
MAX_LABEL_WIDTH = 190
EMPTY = "—"


@dataclass(frozen=True)
class HeatmapColumn:
    label: str  # short, under the grid (not every column's label is drawn)
    title: str  # the full bucket, in each cell's tooltip


@dataclass(frozen=True)
class HeatmapCell:
    value: float | None  # milliseconds; None: no data (drawn hatched, unlike zero)
    samples: int = 0


@dataclass(frozen=True)
class Heatmap:
    title: str
    value_name: str  # what a cell holds, e.g. "p95 latency"
    rows: Sequence[str]
    columns: Sequence[HeatmapColumn]
    cells: Sequence[Sequence[HeatmapCell]]  # one row per ``rows`` entry, one cell per column
    row_links: Sequence[str] = ()  # optional href per row label (relative URLs)

    def text_rows(self) -> list[tuple[str, list[str]]]:
        """The same figures for a table: ``(row label, formatted cells)``."""
        return [
            (label, [format_ms(cell.value) for cell in row])
            for label, row in zip(self.rows, self.cells, strict=True)
        ]

    def values(self) -> list[float]:
        return [c.value for row in self.cells for c in row if c.value is not None]


@dataclass(frozen=True)
class ColorScale:
    """``PALETTE[i]`` covers ``[bounds[i], bounds[i + 1])``; the last class includes the top."""

    bounds: tuple[float, ...]
    logarithmic: bool

    @classmethod
    def for_values(cls, values: Sequence[float]) -> ColorScale:
        low, high = (min(values), max(values)) if values else (0.0, 0.0)
        if high <= low:
            return cls((low, high), logarithmic=False)
        # Latencies spread over orders of magnitude: a log scale keeps the fast
        # models from all sharing the palest colour.
        logarithmic = low > 0 and high / low > 4
        steps = len(PALETTE)
        if logarithmic:
            a, b = math.log(low), math.log(high)
            bounds = [math.exp(a + (b - a) * i / steps) for i in range(steps + 1)]
        else:
            bounds = [low + (high - low) * i / steps for i in range(steps + 1)]
        bounds[0], bounds[-1] = low, high  # no rounding drift at the ends
        return cls(tuple(bounds), logarithmic=logarithmic)

    @property
    def classes(self) -> int:
        return len(self.bounds) - 1

    def index(self, value: float) -> int:
        for i in range(self.classes - 1):
            if value < self.bounds[i + 1]:
                return i
        return self.classes - 1

    def color(self, value: float) -> str:
        return PALETTE[self.index(value)] if self.classes > 1 else PALETTE[len(PALETTE) // 2]


def format_ms(value: float | None) -> str:
    if value is None:
        return EMPTY
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 10_000:
        return f"{value / 1000:.2f} s"
    return f"{value / 1000:.1f} s"


def text_width(text: str) -> float:
    """Rough rendered width in pixels at ``FONT_SIZE``: Hangul and other wide
    characters take about twice a Latin letter."""
    units = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return units * FONT_SIZE * 0.66  # generous: a clipped label is worse than a gap


def _fit(text: str, width: float) -> str:
    if text_width(text) <= width:
        return text
    while text and text_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def heatmap_svg(heatmap: Heatmap, *, dom_id: str) -> SafeString:
    """The heatmap as an ``<svg>`` element; ``dom_id`` must be unique on the page
    (it names the hatch pattern and the title)."""
    values = heatmap.values()
    scale = ColorScale.for_values(values)
    label_width = min(MAX_LABEL_WIDTH, max((text_width(r) for r in heatmap.rows), default=0) + 12)
    grid_x = math.ceil(label_width)
    grid_width = len(heatmap.columns) * CELL_WIDTH
    grid_height = len(heatmap.rows) * CELL_HEIGHT
    legend_y = grid_height + TICK_HEIGHT
    legend_width = (
        LEGEND_X
        + (scale.classes + 1) * SWATCH_WIDTH
        + LEGEND_GAP
        + max(SWATCH_WIDTH, text_width(_("no data")))
    )
    width = math.ceil(max(grid_x + grid_width, legend_width)) + 8
    height = legend_y + LEGEND_HEIGHT
    parts: list[SafeString] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" id="{}" role="img" '
            'aria-labelledby="{}-title" viewBox="0 0 {} {}" width="{}" height="{}" '
            'font-size="{}">',
            dom_id,
            dom_id,
            width,
            height,
            width,
            height,
            FONT_SIZE,
        ),
        format_html('<title id="{}-title">{}</title>', dom_id, heatmap.title),
        format_html(
            '<defs><pattern id="{}-empty" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)">'
            '<rect width="6" height="6" fill="#f6f7f9" class="heatmap-empty-bg"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#c3c8d0" stroke-width="2" '
            'class="heatmap-hatch"/>'
            "</pattern></defs>",
            dom_id,
        ),
    ]
    parts += _row_labels(heatmap, label_width)
    parts += _cells(heatmap, scale, grid_x=grid_x, empty_fill=f"url(#{dom_id}-empty)")
    parts += _ticks(heatmap, grid_x=grid_x, y=grid_height)
    parts += _legend(
        scale,
        y=legend_y,
        x=LEGEND_X,
        empty_fill=f"url(#{dom_id}-empty)",
        has_values=bool(values),
    )
    parts.append(SafeString("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every piece above was escaped by format_html


def _row_labels(heatmap: Heatmap, label_width: float) -> list[SafeString]:
    parts: list[SafeString] = []
    for i, label in enumerate(heatmap.rows):
        text = format_html(
            '<text x="{}" y="{}" text-anchor="end" dominant-baseline="central" '
            'fill="currentColor"><title>{}</title>{}</text>',
            f"{label_width - 8:.0f}",
            i * CELL_HEIGHT + CELL_HEIGHT // 2,
            label,
            _fit(label, label_width - 10),
        )
        if i < len(heatmap.row_links):
            text = format_html(
                '<a href="{}" class="heatmap-row-link">{}</a>', heatmap.row_links[i], text
            )
        parts.append(text)
    return parts


def _cells(
    heatmap: Heatmap, scale: ColorScale, *, grid_x: int, empty_fill: str
) -> list[SafeString]:
    parts: list[SafeString] = []
    for r, (label, row) in enumerate(zip(heatmap.rows, heatmap.cells, strict=True)):
        for c, (column, cell) in enumerate(zip(heatmap.columns, row, strict=True)):
            if cell.value is None:
                fill, css, detail = empty_fill, "heatmap-cell heatmap-cell-empty", _("no data")
            else:
                fill, css = scale.color(cell.value), "heatmap-cell"
                detail = _("%(name)s %(value)s (%(samples)s calls)") % {
                    "name": heatmap.value_name,
                    "value": format_ms(cell.value),
                    "samples": cell.samples,
                }
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{}" class="{}">'
                    "<title>{}\n{}\n{}</title></rect>",
                    grid_x + c * CELL_WIDTH + GAP // 2,
                    r * CELL_HEIGHT + GAP // 2,
                    CELL_WIDTH - GAP,
                    CELL_HEIGHT - GAP,
                    fill,
                    css,
                    label,
                    column.title,
                    detail,
                )
            )
    return parts


def _ticks(heatmap: Heatmap, *, grid_x: int, y: int) -> list[SafeString]:
    """Column labels, every ``step``-th one so that they never overlap."""
    widest = max((text_width(c.label) for c in heatmap.columns), default=0)
    step = max(1, math.ceil((widest + 8) / CELL_WIDTH))
    return [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" class="heatmap-tick" stroke-width="1"/>'
            '<text x="{}" y="{}" fill="currentColor" class="heatmap-tick-label">{}</text>',
            grid_x + c * CELL_WIDTH,
            y,
            grid_x + c * CELL_WIDTH,
            y + 6,
            grid_x + c * CELL_WIDTH,
            y + 6 + FONT_SIZE,
            column.label,
        )
        for c, column in enumerate(heatmap.columns)
        if c % step == 0
    ]


def _legend(
    scale: ColorScale, *, y: int, x: int, empty_fill: str, has_values: bool
) -> list[SafeString]:
    """Colour swatches with their lower bounds (and the top value), then "no data"."""
    parts: list[SafeString] = []
    top, label_y = y + 4, y + 18 + FONT_SIZE
    swatches: list[tuple[int, str]] = []
    if has_values:
        swatches = list(enumerate(PALETTE)) if scale.classes > 1 else [(0, scale.color(0))]
    for i, color in swatches:
        left = x + i * SWATCH_WIDTH
        low, high = scale.bounds[i], scale.bounds[min(i + 1, scale.classes)]
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="12" fill="{}" class="heatmap-swatch">'
                "<title>{} \N{EN DASH} {}</title></rect>"
                '<text x="{}" y="{}" fill="currentColor" class="heatmap-legend-label">{}</text>',
                left,
                top,
                SWATCH_WIDTH - 2,
                color,
                format_ms(low),
                format_ms(high),
                left,
                label_y,
                format_ms(low),
            )
        )
    empty_left = x
    if swatches:
        last = x + len(swatches) * SWATCH_WIDTH
        parts.append(
            format_html(
                '<text x="{}" y="{}" fill="currentColor" class="heatmap-legend-label">{}</text>',
                last,
                label_y,
                format_ms(scale.bounds[-1]),
            )
        )
        empty_left = last + SWATCH_WIDTH + LEGEND_GAP
    parts.append(
        format_html(
            '<rect x="{}" y="{}" width="{}" height="12" fill="{}" class="heatmap-swatch '
            'heatmap-cell-empty"/>'
            '<text x="{}" y="{}" fill="currentColor" class="heatmap-legend-label">{}</text>',
            empty_left,
            top,
            SWATCH_WIDTH - 2,
            empty_fill,
            empty_left,
            label_y,
            _("no data"),
        )
    )
    return parts
