"""The SVG heatmap builder and the matrix the operations page feeds it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import translation

from providers.ops.heatmap import (
    CELL_WIDTH,
    MAX_LABEL_WIDTH,
    PALETTE,
    ColorScale,
    Heatmap,
    HeatmapCell,
    HeatmapColumn,
    format_ms,
    heatmap_svg,
)
from providers.ops.latency_map import latency_heatmap
from providers.ops.selectors import Latency, LatencyBucket
from providers.ops.windows import bucket_floor, bucket_starts, window_get
from tests.providers.ops.conftest import NOW

SVG = "{http://www.w3.org/2000/svg}"


def matrix(rows: list[str], values: list[list[float | None]]) -> Heatmap:
    columns = [
        HeatmapColumn(f"{h:02d}:00", f"2025-05-20 {h:02d}:00") for h in range(len(values[0]))
    ]
    return Heatmap(
        title="p95 latency",
        value_name="p95 latency",
        rows=rows,
        columns=columns,
        cells=[[HeatmapCell(v, 3 if v is not None else 0) for v in row] for row in values],
    )


def cells(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    return [r for r in root.iter(f"{SVG}rect") if "heatmap-cell" in r.get("class", "").split()]


def test_one_rect_per_cell_with_a_tooltip() -> None:
    heatmap = matrix(["a", "b", "c"], [[100.0, None, 300.0, 50.0]] * 3)
    with translation.override("en"):
        svg = heatmap_svg(heatmap, dom_id="hm")
    found = cells(svg)
    assert len(found) == 12
    titles = [r.find(f"{SVG}title") for r in found]
    assert all(t is not None and t.text for t in titles)
    assert "300 ms (3 calls)" in (titles[2].text or "")  # type: ignore[union-attr]
    assert "no data" in (titles[1].text or "")  # type: ignore[union-attr]


def test_empty_cells_are_hatched_and_zero_is_a_colour() -> None:
    svg = heatmap_svg(matrix(["m"], [[0.0, None, 1000.0]]), dom_id="hm")
    zero, empty, slow = cells(svg)
    assert zero.get("fill") == PALETTE[0]
    assert empty.get("fill") == "url(#hm-empty)"
    assert "heatmap-cell-empty" in (empty.get("class") or "")
    assert slow.get("fill") == PALETTE[-1]
    assert 'id="hm-empty"' in svg


def test_names_are_escaped_everywhere() -> None:
    evil = '<script>alert("x")</script>&'
    heatmap = Heatmap(
        title=evil,
        value_name=evil,
        rows=[evil],
        columns=[HeatmapColumn(evil, evil)],
        cells=[[HeatmapCell(5.0, 1)]],
        row_links=['?model="><script>'],
    )
    svg = heatmap_svg(heatmap, dom_id="hm")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    ET.fromstring(svg)  # noqa: S314 - still well-formed XML


def test_svg_scales_and_keeps_labels_readable_on_a_phone() -> None:
    long_name = "아주-긴-모델-이름-" * 10
    svg = heatmap_svg(matrix([long_name, "short"], [[1.0] * 30, [2.0] * 30]), dom_id="hm")
    root = ET.fromstring(svg)  # noqa: S314
    width = float(root.get("width") or 0)
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert root.get("role") == "img"
    # the long label is cut short (full name in its tooltip), so the grid keeps its room
    texts = [t for t in root.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None]
    assert texts[0].find(f"{SVG}title").text == long_name  # type: ignore[union-attr]
    assert "…" in "".join(texts[0].itertext())
    assert width <= MAX_LABEL_WIDTH + 30 * CELL_WIDTH + 8
    # not every column gets a label: they would overlap
    ticks = [t for t in root.iter(f"{SVG}text") if t.get("class") == "heatmap-tick-label"]
    assert 1 < len(ticks) < 30


def test_colour_scale_is_logarithmic_over_wide_ranges() -> None:
    scale = ColorScale.for_values([10.0, 10_000.0])
    assert scale.logarithmic
    assert scale.bounds[0] == 10.0
    assert scale.bounds[-1] == 10_000.0
    assert scale.color(10.0) == PALETTE[0]
    assert scale.color(10_000.0) == PALETTE[-1]
    assert scale.color(100.0) == PALETTE[2]  # 10^(1 + 3·2/7) ≈ 72 ≤ 100 < 10^(1 + 3·3/7) ≈ 193
    narrow = ColorScale.for_values([100.0, 200.0])
    assert not narrow.logarithmic
    single = ColorScale.for_values([42.0])
    assert single.classes == 1


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "—"), (0.4, "0 ms"), (999.4, "999 ms"), (1234.0, "1.23 s"), (45_600.0, "45.6 s")],
)
def test_format_ms(value: float | None, text: str) -> None:
    assert format_ms(value) == text


def _bucket(model: str, start_offset_hours: int, p50: float, samples: int = 5) -> LatencyBucket:
    start = bucket_floor(NOW, timedelta(hours=1)) - timedelta(hours=start_offset_hours)
    latency = Latency(samples, p50, p50, p50 * 2, p50 * 3)
    return LatencyBucket(model, start, latency, Latency(0, None, None, None, None))


def test_latency_matrix_has_a_column_for_every_bucket_of_the_window() -> None:
    window = window_get("24h")
    buckets = [_bucket("a", 0, 100.0), _bucket("a", 5, 200.0), _bucket("b", 24, 300.0)]
    with translation.override("en"):
        heatmap = latency_heatmap(buckets, window=window, now=NOW, metric="latency", percent=95)
    assert len(heatmap.columns) == len(bucket_starts(window, NOW)) == 25
    assert heatmap.rows == ["a", "b"]
    row_a = [c.value for c in heatmap.cells[0]]
    assert row_a[-1] == 200.0  # p95 of the bucket holding NOW
    assert row_a[-6] == 400.0
    assert sum(v is not None for v in row_a) == 2
    assert heatmap.cells[1][0].value == 600.0  # the first bucket, 24 hours back
    assert heatmap.columns[-1].label == "15:00"
    assert heatmap.columns[-1].title == "2025-05-20 15:00 \N{EN DASH} 16:00"
    assert heatmap.row_links[0] == "?window=24h&metric=latency&percentile=95&model=a"
    assert "p95" in heatmap.title


def test_latency_matrix_for_one_model_shows_its_percentiles() -> None:
    buckets = [_bucket("a", 1, 100.0), _bucket("b", 1, 999.0)]
    heatmap = latency_heatmap(
        buckets, window=window_get("24h"), now=NOW, metric="latency", percent=50, model="a"
    )
    assert heatmap.rows == ["p50", "p95", "p99"]
    assert [row[-2].value for row in heatmap.cells] == [100.0, 200.0, 300.0]
    assert heatmap.row_links == []
    ttft = latency_heatmap(
        buckets, window=window_get("24h"), now=NOW, metric="ttft", percent=50, model="a"
    )
    assert all(cell.value is None for row in ttft.cells for cell in row)


def test_window_buckets() -> None:
    hour = window_get("1h")
    starts = bucket_starts(hour, NOW)
    assert len(starts) == 13
    assert starts[-1] == NOW.replace(minute=10)
    assert starts[0] == NOW.replace(hour=14, minute=10)
    week = bucket_starts(window_get("7d"), NOW)
    assert {s.hour for s in week} == {0, 6, 12, 18}


def test_legend_without_any_value_shows_only_no_data() -> None:
    with translation.override("en"):
        svg = heatmap_svg(matrix(["m"], [[None, None]]), dom_id="hm")
    root = ET.fromstring(svg)  # noqa: S314
    swatches = [r for r in root.iter(f"{SVG}rect") if "heatmap-swatch" in (r.get("class") or "")]
    assert len(swatches) == 1
    assert swatches[0].get("fill") == "url(#hm-empty)"
    full = heatmap_svg(matrix(["m"], [[1.0, 900.0]]), dom_id="hm")
    root = ET.fromstring(full)  # noqa: S314
    swatches = [r for r in root.iter(f"{SVG}rect") if "heatmap-swatch" in (r.get("class") or "")]
    assert [r.get("fill") for r in swatches] == [*PALETTE, "url(#hm-empty)"]
