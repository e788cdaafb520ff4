"""Server-rendered SVG charts: small pure functions from typed data to safe markup.

Every text that reaches the markup is escaped here, so callers pass plain strings
(labels may come from users: department and model names). The output carries a
``viewBox`` (it scales to its container), ``role="img"`` with an ``aria-label`` and a
``<title>``, and a ``<title>`` per mark for the tooltip; the page shows the same
numbers in a table as the text alternative. Colours of the data are presentation
attributes; text, grid and axes use ``chart-*`` classes so the page's stylesheet
can follow the light or dark theme. No inline styles or scripts (strict CSP).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

# Distinguishable, colour-blind-aware hues; a name keeps its colour on a page when
# colours are assigned with ``palette_for``.
PALETTE = (
    "#2f6fed",
    "#f59e0b",
    "#10b981",
    "#8b5cf6",
    "#ef4444",
    "#06b6d4",
    "#ec4899",
    "#84cc16",
    "#a16207",
    "#64748b",
)
REST_COLOR = "#94a3b8"
LIMIT_COLOR = "#dc2626"
FONT_SIZE = 12
SMALL_FONT = 11

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Point:
    """One column of a time series. ``value`` None means the value is unknown (for
    example a cost without an exchange rate): drawn as a dashed outline."""

    label: str
    value: float | None
    tooltip: str


@dataclass(frozen=True)
class Line:
    name: str
    values: Sequence[float | None]
    color: str
    dashed: bool = False
    markers: bool = False


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    display: str
    tooltip: str = ""
    color: str = PALETTE[0]


@dataclass(frozen=True)
class Segment:
    name: str
    value: float
    tooltip: str
    color: str


@dataclass(frozen=True)
class ShareRow:
    label: str
    segments: Sequence[Segment]


def palette_for(names: Sequence[str]) -> dict[str, str]:
    """A colour per name in order; names past the palette share the neutral colour."""
    return {
        name: PALETTE[index] if index < len(PALETTE) else REST_COLOR
        for index, name in enumerate(names)
    }


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _n(value: float) -> str:
    """A coordinate, short: ``12``, ``12.5``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """An estimate of the rendered width: Hangul and CJK about 1 em, Latin about 0.6 em."""
    return sum(size * (0.95 if ord(char) >= 0x1100 else 0.6) for char in text)


def fit_text(text: str, width: float, size: float = FONT_SIZE) -> str:
    """``text`` cut with an ellipsis so that it fits ``width``."""
    if text_width(text, size) <= width:
        return text
    cut = text
    while cut and text_width(cut + "…", size) > width:
        cut = cut[:-1]
    return cut + "…"


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """Round axis steps from 0 up to at least ``maximum`` (1, 2, 2.5 or 5 times a power of ten)."""
    if maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(factor * magnitude for factor in (1, 2, 2.5, 5, 10) if factor * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < maximum * (1 - 1e-9):
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _svg(width: float, height: float, label: str, body: Sequence[str], kind: str) -> SafeString:
    markup = (
        f'<svg class="chart chart-{kind}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(label)}" '
        f'font-size="{FONT_SIZE}"><title>{_e(label)}</title>{"".join(body)}</svg>'
    )
    return mark_safe(markup)  # noqa: S308 - built here, every text escaped by _e


def _y_axis(
    ticks: Sequence[float],
    *,
    scale: Callable[[float], float],
    left: float,
    right: float,
    axis_format: Formatter,
) -> list[str]:
    parts = []
    for tick in ticks:
        y = _n(scale(tick))
        parts.append(
            f'<line class="chart-grid" x1="{_n(left)}" x2="{_n(right)}" y1="{y}" y2="{y}"/>'
            f'<text class="chart-tick" x="{_n(left - 8)}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle" font-size="{SMALL_FONT}">{_e(axis_format(tick))}</text>'
        )
    return parts


def _x_labels(labels: Sequence[str], centers: Sequence[float], y: float) -> list[str]:
    """Every k-th label, so that they never overlap."""
    if not labels:
        return []
    widest = max(text_width(label, SMALL_FONT) for label in labels) + 10
    spacing = centers[1] - centers[0] if len(centers) > 1 else widest
    every = max(1, math.ceil(widest / spacing))
    return [
        f'<text class="chart-tick" x="{_n(x)}" y="{_n(y)}" text-anchor="middle" '
        f'font-size="{SMALL_FONT}">{_e(label)}</text>'
        for index, (label, x) in enumerate(zip(labels, centers, strict=True))
        if index % every == 0
    ]


def _left_margin(ticks: Sequence[float], axis_format: Formatter) -> float:
    return max(text_width(axis_format(tick), SMALL_FONT) for tick in ticks) + 16


def bar_series(
    points: Sequence[Point],
    *,
    label: str,
    axis_format: Formatter,
    missing_label: str = "",
    color: str = PALETTE[0],
    width: float = 720,
    height: float = 240,
) -> SafeString:
    """Columns over time (days): value axis with round steps, hover titles per column,
    unknown values as dashed outlines explained by ``missing_label``."""
    known = [point.value for point in points if point.value is not None]
    ticks = nice_ticks(max(known, default=0.0))
    top, bottom = 26.0, height - 26
    left, right = _left_margin(ticks, axis_format), width - 10

    def scale(value: float) -> float:
        return bottom - (bottom - top) * value / ticks[-1]

    body = _y_axis(ticks, scale=scale, left=left, right=right, axis_format=axis_format)
    step = (right - left) / max(len(points), 1)
    bar_width = max(step * 0.68, 1.0)
    centers = [left + step * (index + 0.5) for index in range(len(points))]
    for point, center in zip(points, centers, strict=True):
        x = center - bar_width / 2
        mark = ""
        if point.value is None:
            mark = (
                f'<rect class="chart-missing" x="{_n(x)}" y="{_n(top)}" '
                f'width="{_n(bar_width)}" height="{_n(bottom - top)}" rx="2"/>'
            )
        elif point.value > 0:
            y = scale(point.value)
            mark = (
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bar_width)}" '
                f'height="{_n(max(bottom - y, 0.5))}" rx="2" fill="{_e(color)}"/>'
            )
        body.append(
            f'<g class="chart-column"><title>{_e(point.tooltip)}</title>'
            f'<rect class="chart-hit" x="{_n(center - step / 2)}" y="{_n(top)}" '
            f'width="{_n(step)}" height="{_n(bottom - top)}"/>{mark}</g>'
        )
    body.append(
        f'<line class="chart-axis" x1="{_n(left)}" x2="{_n(right)}" '
        f'y1="{_n(bottom)}" y2="{_n(bottom)}"/>'
    )
    body.extend(_x_labels([point.label for point in points], centers, height - 8))
    if missing_label and any(point.value is None for point in points):
        legend_x = right - text_width(missing_label, SMALL_FONT) - 18
        body.append(
            f'<rect class="chart-missing" x="{_n(legend_x)}" y="5" width="12" height="12" '
            f'rx="2"/><text class="chart-tick" x="{_n(legend_x + 16)}" y="15" '
            f'font-size="{SMALL_FONT}">{_e(missing_label)}</text>'
        )
    return _svg(width, height, label, body, "bars")


def line_chart(
    x_labels: Sequence[str],
    lines: Sequence[Line],
    *,
    label: str,
    axis_format: Formatter,
    tooltips: Sequence[str] = (),
    width: float = 720,
    height: float = 240,
) -> SafeString:
    """Lines over the same x positions, with a legend; a None value breaks its line.
    ``tooltips`` (one per x) title the markers of lines drawn with ``markers``."""
    values = [value for line in lines for value in line.values if value is not None]
    ticks = nice_ticks(max(values, default=0.0))
    top, bottom = 30.0, height - 26
    left, right = _left_margin(ticks, axis_format), width - 14

    def scale(value: float) -> float:
        return bottom - (bottom - top) * value / ticks[-1]

    count = max(len(x_labels), 1)
    span = (right - left) / max(count - 1, 1)
    xs = [left + span * index if count > 1 else (left + right) / 2 for index in range(count)]
    body = _y_axis(ticks, scale=scale, left=left, right=right, axis_format=axis_format)
    body.append(
        f'<line class="chart-axis" x1="{_n(left)}" x2="{_n(right)}" '
        f'y1="{_n(bottom)}" y2="{_n(bottom)}"/>'
    )
    for line in lines:
        dash = ' stroke-dasharray="6 4"' if line.dashed else ""
        for run in _runs(line.values):
            points = " ".join(f"{_n(xs[i])},{_n(scale(v))}" for i, v in run)
            if len(run) == 1:
                index, value = run[0]
                body.append(
                    f'<circle cx="{_n(xs[index])}" cy="{_n(scale(value))}" r="2.5" '
                    f'fill="{_e(line.color)}"/>'
                )
                continue
            body.append(
                f'<polyline points="{points}" fill="none" stroke="{_e(line.color)}" '
                f'stroke-width="2" stroke-linejoin="round" stroke-linecap="round"{dash}/>'
            )
        if line.markers:
            for spot, known in enumerate(line.values):
                if known is None:
                    continue
                tip = tooltips[spot] if spot < len(tooltips) else ""
                body.append(
                    f'<circle class="chart-marker" cx="{_n(xs[spot])}" cy="{_n(scale(known))}" '
                    f'r="3.5" fill="{_e(line.color)}"><title>{_e(tip)}</title></circle>'
                )
    body.extend(_x_labels(x_labels, xs, height - 8))
    body.extend(_legend([(line.name, line.color, line.dashed) for line in lines], left, 14))
    return _svg(width, height, label, body, "lines")


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    runs: list[list[tuple[int, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((index, value))
    return [run for run in runs if run]


def _legend(entries: Sequence[tuple[str, str, bool]], x: float, y: float) -> list[str]:
    parts = []
    for name, color, dashed in entries:
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        parts.append(
            f'<line x1="{_n(x)}" x2="{_n(x + 18)}" y1="{_n(y - 4)}" y2="{_n(y - 4)}" '
            f'stroke="{_e(color)}" stroke-width="2.5"{dash}/>'
            f'<text class="chart-label" x="{_n(x + 24)}" y="{_n(y)}" '
            f'font-size="{SMALL_FONT}">{_e(name)}</text>'
        )
        x += 24 + text_width(name, SMALL_FONT) + 18
    return parts


def ranking_bars(
    bars: Sequence[Bar], *, label: str, width: float = 720, label_width: float = 190
) -> SafeString:
    """Horizontal bars, largest first as given, each with its label and its value."""
    row, top = 30.0, 6.0
    height = top * 2 + row * max(len(bars), 1)
    maximum = max((bar.value for bar in bars), default=0.0) or 1.0
    value_room = max((text_width(bar.display, SMALL_FONT) for bar in bars), default=0.0) + 12
    left = label_width + 10
    track = max(width - left - value_room, 10.0)
    body = []
    for index, bar in enumerate(bars):
        y = top + row * index
        length = track * max(bar.value, 0.0) / maximum
        middle = y + row / 2
        body.append(
            f'<g class="chart-row"><title>{_e(bar.tooltip or bar.label)}</title>'
            f'<rect class="chart-hit" x="0" y="{_n(y)}" width="{_n(width)}" height="{_n(row)}"/>'
            f'<text class="chart-label" x="{_n(label_width)}" y="{_n(middle)}" '
            f'text-anchor="end" dominant-baseline="middle">'
            f"{_e(fit_text(bar.label, label_width))}</text>"
            f'<rect x="{_n(left)}" y="{_n(y + 6)}" width="{_n(max(length, 1.0))}" '
            f'height="{_n(row - 12)}" rx="3" fill="{_e(bar.color)}"/>'
            f'<text class="chart-value" x="{_n(left + length + 6)}" y="{_n(middle)}" '
            f'dominant-baseline="middle" font-size="{SMALL_FONT}">{_e(bar.display)}</text></g>'
        )
    return _svg(width, height, label, body, "ranking")


def share_bars(
    rows: Sequence[ShareRow],
    *,
    label: str,
    legend: Sequence[tuple[str, str]],
    width: float = 720,
    label_width: float = 90,
) -> SafeString:
    """100 % bars: each row split into its segments' shares, percentages written on
    the wide ones, and a legend (name, colour) that wraps below."""
    row, top = 34.0, 4.0
    left, right = label_width + 10, width - 4
    body = []
    for index, share in enumerate(rows):
        y = top + row * index
        total = sum(max(segment.value, 0.0) for segment in share.segments)
        body.append(
            f'<text class="chart-label" x="{_n(label_width)}" y="{_n(y + row / 2)}" '
            f'text-anchor="end" dominant-baseline="middle">'
            f"{_e(fit_text(share.label, label_width))}</text>"
        )
        if total <= 0:
            body.append(
                f'<rect class="chart-empty" x="{_n(left)}" y="{_n(y + 5)}" '
                f'width="{_n(right - left)}" height="{_n(row - 10)}" rx="3"/>'
            )
            continue
        x = left
        for segment in share.segments:
            if segment.value <= 0:
                continue
            fraction = segment.value / total
            length = (right - left) * fraction
            text = ""
            percent = f"{fraction * 100:.0f}%"
            if length > text_width(percent, SMALL_FONT) + 8:
                text = (
                    f'<text class="chart-on-color" x="{_n(x + length / 2)}" '
                    f'y="{_n(y + row / 2)}" text-anchor="middle" dominant-baseline="middle" '
                    f'font-size="{SMALL_FONT}">{_e(percent)}</text>'
                )
            body.append(
                f"<g><title>{_e(segment.tooltip)}</title>"
                f'<rect x="{_n(x)}" y="{_n(y + 5)}" width="{_n(length)}" '
                f'height="{_n(row - 10)}" fill="{_e(segment.color)}"/>{text}</g>'
            )
            x += length
    y = top + row * len(rows) + 14
    x = left
    for name, color in legend:
        shown = fit_text(name, min(200.0, right - left - 32), SMALL_FONT)
        item = 16 + text_width(shown, SMALL_FONT) + 16
        if x + item > right and x > left:
            x, y = left, y + 20
        body.append(
            f'<rect x="{_n(x)}" y="{_n(y - 9)}" width="10" height="10" rx="2" '
            f'fill="{_e(color)}"/><text class="chart-label" x="{_n(x + 15)}" y="{_n(y)}" '
            f'font-size="{SMALL_FONT}">{_e(shown)}</text>'
        )
        x += item
    return _svg(width, y + 8, label, body, "shares")


def meter(fraction: float, *, label: str, warn_at: float = 0.8, width: float = 320) -> SafeString:
    """A thin progress bar for a budget: green, amber from ``warn_at``, red at 100 %;
    the tick marks the limit when the spend has passed it."""
    height, bar = 14.0, 10.0
    shown = min(max(fraction, 0.0), 1.25)
    full = width / 1.25 if fraction > 1 else width
    color = LIMIT_COLOR if fraction >= 1 else "#f59e0b" if fraction >= warn_at else "#10b981"
    body = [
        f'<rect class="chart-empty" x="0" y="2" width="{_n(full)}" height="{_n(bar)}" rx="5"/>',
        f'<rect x="0" y="2" width="{_n(max(full * shown, 0.0))}" height="{_n(bar)}" rx="5" '
        f'fill="{color}"/>',
    ]
    if fraction > 1:
        body.append(
            f'<line x1="{_n(full)}" x2="{_n(full)}" y1="0" y2="{_n(height)}" '
            f'stroke="{LIMIT_COLOR}" stroke-width="2"/>'
        )
    return _svg(width, height, label, body, "meter")
