"""Everything the operations page shows, read in one place for a thin view."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection, transaction

from providers.ops.cooldowns import CooldownState, cooldown_states
from providers.ops.handoffs import RequestSummary, request_summary_get
from providers.ops.heatmap import heatmap_svg
from providers.ops.latency_map import latency_heatmap
from providers.ops.selectors import DeploymentStats, deployment_stats_list, latency_bucket_list
from providers.ops.windows import bucket_floor

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from django.utils.safestring import SafeString

    from providers.ops.forms import OpsFilters
    from providers.ops.heatmap import Heatmap


@dataclass(frozen=True)
class DeploymentRow:
    stats: DeploymentStats
    cooldown: CooldownState | None  # None: unknown (Redis unreadable) or not configured


@dataclass(frozen=True)
class Dashboard:
    filters: OpsFilters
    start: datetime
    end: datetime
    summary: RequestSummary
    deployments: list[DeploymentRow]
    cooldowns_readable: bool
    heatmap: Heatmap
    heatmap_svg: SafeString

    @property
    def cooling(self) -> list[DeploymentRow]:
        return [row for row in self.deployments if row.cooldown and row.cooldown.cooling]


@contextmanager
def _sort_memory() -> Iterator[None]:
    """Percentiles sort the values of every group. At PostgreSQL's default 4 MB a
    busy week spills to disk and the planner prefers slow index walks, so these
    reads get more sort memory, for their own transaction only."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
        yield


def dashboard_get(*, filters: OpsFilters, now: datetime) -> Dashboard:
    with _sort_memory():
        return _dashboard(filters=filters, now=now)


def _dashboard(*, filters: OpsFilters, now: datetime) -> Dashboard:
    window = filters.window
    start = now - window.span
    stats = deployment_stats_list(start=start, end=now)
    configured = [s.deployment_id for s in stats if s.configured and s.deployment_id is not None]
    states = cooldown_states(configured, since=start)
    rows = [
        DeploymentRow(s, states.get(s.deployment_id) if states and s.deployment_id else None)
        for s in stats
    ]
    # The heatmap starts at the first whole bucket, so its first column is not a sliver.
    buckets = latency_bucket_list(
        start=bucket_floor(start, window.bucket), end=now, bucket=window.bucket
    )
    heatmap = latency_heatmap(
        buckets,
        window=window,
        now=now,
        metric=filters.metric,
        percent=filters.percent,
        model=filters.model,
    )
    return Dashboard(
        filters=filters,
        start=start,
        end=now,
        summary=request_summary_get(start=start, end=now),
        deployments=rows,
        cooldowns_readable=states is not None,
        heatmap=heatmap,
        heatmap_svg=heatmap_svg(heatmap, dom_id="ops-heatmap"),
    )
