"""Reads on the usage ledger for the operations view and the metrics endpoint.

The ledger has one row per upstream attempt; ``request_id`` groups the attempts of
one client request in ``attempt`` order. Latency percentiles count successful
attempts only: a failed attempt's time says how fast it failed, not how fast the
model answers. Percentiles are PostgreSQL's ``percentile_cont`` (linear
interpolation between the two nearest rows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DateTimeField,
    DurationField,
    F,
    Max,
    Q,
    Sum,
    Value,
)

from providers.models import Deployment, UsageRecord
from providers.ops.aggregates import DateBin, Percentiles
from providers.ops.handoffs import Handoffs, handoff_counts
from providers.ops.windows import bucket_origin

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

OK = Q(status=UsageRecord.Status.OK)


@dataclass(frozen=True)
class Latency:
    """Milliseconds of successful attempts; None where there were none."""

    samples: int
    mean_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @classmethod
    def of(cls, samples: int, mean: float | None, quantiles: Sequence[float] | None) -> Latency:
        p50, p95, p99 = quantiles if quantiles else (None, None, None)
        return cls(samples, mean, p50, p95, p99)

    def quantile(self, percent: int) -> float | None:
        return {50: self.p50_ms, 95: self.p95_ms, 99: self.p99_ms}[percent]


def _speed_aggregates() -> dict[str, Aggregate]:
    """Sample counts, means and percentiles of latency and time to first token."""
    return {
        "ok_count": Count("id", filter=OK),
        "mean_latency": Avg("latency_ms", filter=OK),
        "latency_quantiles": Percentiles("latency_ms", filter=OK),
        "ttft_count": Count("ttft_ms", filter=OK),
        "mean_ttft": Avg("ttft_ms", filter=OK),
        "ttft_quantiles": Percentiles("ttft_ms", filter=OK & Q(ttft_ms__isnull=False)),
    }


def _latency(row: Mapping[str, Any]) -> Latency:
    return Latency.of(row["ok_count"], row["mean_latency"], row["latency_quantiles"])


def _ttft(row: Mapping[str, Any]) -> Latency:
    return Latency.of(row["ttft_count"], row["mean_ttft"], row["ttft_quantiles"])


@dataclass(frozen=True)
class DeploymentStats:
    deployment_id: int | None
    model_group: str
    provider: str
    upstream_model: str
    configured: bool  # False once the deployment was deleted; the ledger keeps its rows
    enabled: bool
    attempts: int
    errors: int
    cancelled: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal
    latency: Latency
    handoffs: Handoffs

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.attempts if self.attempts else None

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class LatencyBucket:
    model_group: str
    start: datetime
    latency: Latency
    ttft: Latency


def deployment_stats_list(*, start: datetime, end: datetime) -> list[DeploymentStats]:
    """Every deployment that is enabled or had attempts in ``[start, end)``, by model group."""
    rows = (
        UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("deployment_id")
        .annotate(
            group_name=Max("model_group"),
            provider_name=Max("provider"),
            upstream=Max("upstream_model"),
            attempts=Count("id"),
            errors=Count("id", filter=Q(status=UsageRecord.Status.ERROR)),
            cancels=Count("id", filter=Q(status=UsageRecord.Status.CANCELLED)),
            prompt=Sum("prompt_tokens", default=0),
            completion=Sum("completion_tokens", default=0),
            cost=Sum("cost_usd", default=Decimal(0)),
            ok_count=Count("id", filter=OK),
            mean_latency=Avg("latency_ms", filter=OK),
            latency_quantiles=Percentiles("latency_ms", filter=OK),
        )
        .order_by()
    )
    by_id: dict[int | None, dict[str, Any]] = {row["deployment_id"]: dict(row) for row in rows}
    handoffs = handoff_counts(start=start, end=end)
    deployments = {d.pk: d for d in Deployment.objects.all()}
    ids: list[int | None] = [pk for pk, d in deployments.items() if d.is_enabled or pk in by_id]
    ids += [pk for pk in by_id if pk not in deployments]
    result = [
        _deployment_stats(
            deployments.get(pk) if pk is not None else None,
            pk=pk,
            row=by_id.get(pk) or {},
            handoffs=handoffs.get(pk, Handoffs()),
        )
        for pk in ids
    ]
    result.sort(key=lambda s: (s.model_group, s.deployment_id or 0))
    return result


def _deployment_stats(
    deployment: Deployment | None, *, pk: int | None, row: dict[str, Any], handoffs: Handoffs
) -> DeploymentStats:
    return DeploymentStats(
        deployment_id=pk,
        model_group=deployment.model_name if deployment else row.get("group_name") or "",
        provider=deployment.provider if deployment else row.get("provider_name") or "",
        upstream_model=deployment.upstream_model if deployment else row.get("upstream") or "",
        configured=deployment is not None,
        enabled=deployment is not None and deployment.is_enabled,
        attempts=row.get("attempts", 0),
        errors=row.get("errors", 0),
        cancelled=row.get("cancels", 0),
        prompt_tokens=row.get("prompt", 0),
        completion_tokens=row.get("completion", 0),
        cost_usd=row.get("cost", Decimal(0)),
        latency=Latency.of(
            row.get("ok_count", 0), row.get("mean_latency"), row.get("latency_quantiles")
        ),
        handoffs=handoffs,
    )


def latency_bucket_list(
    *, start: datetime, end: datetime, bucket: timedelta
) -> list[LatencyBucket]:
    """Latency and time-to-first-token percentiles per model group and time bucket,
    for buckets with at least one attempt. Buckets follow ``windows.bucket_floor``."""
    rows = (
        UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(
            bucket=DateBin(
                Value(bucket, output_field=DurationField()),
                F("created_at"),
                Value(bucket_origin(), output_field=DateTimeField()),
            )
        )
        .values("model_group", "bucket")
        .annotate(**_speed_aggregates())
        .order_by("model_group", "bucket")
    )
    return [
        LatencyBucket(
            model_group=row["model_group"],
            start=row["bucket"],
            latency=_latency(row),
            ttft=_ttft(row),
        )
        for row in rows
    ]


def model_group_names(*, start: datetime, end: datetime) -> list[str]:
    """Model groups that are configured or appear in the ledger in ``[start, end)``."""
    configured = set(Deployment.objects.values_list("model_name", flat=True))
    seen = set(
        UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("model_group", flat=True)
        .distinct()
        .order_by()
    )
    return sorted(configured | seen)


@dataclass(frozen=True)
class LedgerTotal:
    """All attempts since the ledger began with one combination of labels."""

    model_group: str
    deployment_id: int | None
    provider: str
    status: str
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal


def ledger_total_list() -> list[LedgerTotal]:
    """Totals over the whole ledger, for monotonic Prometheus counters. One sequential
    pass (or an index-only scan with a covering index) grouped into a few hundred rows."""
    rows = (
        UsageRecord.objects.values("model_group", "deployment_id", "provider", "status")
        .annotate(
            attempts=Count("id"),
            prompt=Sum("prompt_tokens", default=0),
            completion=Sum("completion_tokens", default=0),
            cost=Sum("cost_usd", default=Decimal(0)),
        )
        .order_by("model_group", "deployment_id", "provider", "status")
    )
    return [
        LedgerTotal(
            model_group=row["model_group"],
            deployment_id=row["deployment_id"],
            provider=row["provider"],
            status=row["status"],
            attempts=row["attempts"],
            prompt_tokens=row["prompt"],
            completion_tokens=row["completion"],
            cost_usd=row["cost"],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ModelLatency:
    model_group: str
    latency: Latency
    ttft: Latency


def model_latency_list(*, start: datetime, end: datetime) -> list[ModelLatency]:
    """Latency and time-to-first-token percentiles per model group in ``[start, end)``."""
    rows = (
        UsageRecord.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("model_group")
        .annotate(**_speed_aggregates())
        .order_by("model_group")
    )
    return [
        ModelLatency(
            model_group=row["model_group"],
            latency=_latency(row),
            ttft=_ttft(row),
        )
        for row in rows
    ]
