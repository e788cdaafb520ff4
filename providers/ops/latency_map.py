"""The latency heatmap of the operations view: ledger buckets → a ``Heatmap`` (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from providers.ops.heatmap import Heatmap, HeatmapCell, HeatmapColumn
from providers.ops.windows import bucket_starts

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from providers.ops.selectors import Latency, LatencyBucket
    from providers.ops.windows import Window

METRICS = (
    ("latency", gettext_lazy("Latency")),
    ("ttft", gettext_lazy("Time to first token")),
)
PERCENTS = (50, 95, 99)


def _texts(metric: str, percent: int, model: str) -> tuple[str, str]:
    """The heatmap's title and what one cell holds (whole sentences, for translators)."""
    ttft = metric == "ttft"
    if model:
        title = (
            _("Time to first token of %(model)s over time, by percentile")
            if ttft
            else _("Latency of %(model)s over time, by percentile")
        )
        return title % {"model": model}, _("time to first token") if ttft else _("latency")
    title = (
        _("p%(percent)s time to first token per model over time")
        if ttft
        else _("p%(percent)s latency per model over time")
    )
    value = _("p%(percent)s time to first token") if ttft else _("p%(percent)s latency")
    return title % {"percent": percent}, value % {"percent": percent}


def _figure(bucket: LatencyBucket, metric: str) -> Latency:
    return bucket.ttft if metric == "ttft" else bucket.latency


def _column(start: datetime, window: Window) -> HeatmapColumn:
    local = timezone.localtime(start)
    end = timezone.localtime(start + window.bucket)
    end_format = "%H:%M" if end.date() == local.date() else "%Y-%m-%d %H:%M"
    return HeatmapColumn(
        label=local.strftime(window.tick_format),
        title=f"{local:%Y-%m-%d %H:%M} \N{EN DASH} {end.strftime(end_format)}",
    )


def latency_heatmap(
    buckets: Sequence[LatencyBucket],
    *,
    window: Window,
    now: datetime,
    metric: str,
    percent: int,
    model: str = "",
) -> Heatmap:
    """Rows are model groups at one percentile, or, when ``model`` is given, that
    model's p50, p95 and p99. Columns are every bucket of the window, empty or not."""
    starts = bucket_starts(window, now)
    position = {start: i for i, start in enumerate(starts)}
    title, value_name = _texts(metric, percent, model)
    if model:
        by_row = {
            f"p{p}": {b.start: b for b in buckets if b.model_group == model} for p in PERCENTS
        }
        percents = dict(zip(by_row, PERCENTS, strict=True))
    else:
        by_row = {}
        for bucket in buckets:
            by_row.setdefault(bucket.model_group, {})[bucket.start] = bucket
        percents = dict.fromkeys(by_row, percent)
    links = [] if model else [_model_link(group, window, metric, percent) for group in by_row]
    cells: list[list[HeatmapCell]] = []
    for label, found in by_row.items():
        row = [HeatmapCell(None)] * len(starts)
        for start, bucket in found.items():
            if start in position:
                figure = _figure(bucket, metric)
                row[position[start]] = HeatmapCell(figure.quantile(percents[label]), figure.samples)
        cells.append(row)
    return Heatmap(
        title=title,
        value_name=value_name,
        rows=list(by_row),
        columns=[_column(start, window) for start in starts],
        cells=cells,
        row_links=links,
    )


def _model_link(model: str, window: Window, metric: str, percent: int) -> str:
    """The same page focused on one model (its p50, p95 and p99 rows)."""
    query = {"window": window.key, "metric": metric, "percentile": percent, "model": model}
    return "?" + urlencode(query)
