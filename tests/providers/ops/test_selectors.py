"""The operations figures, checked against what Python computes from the same rows."""

from __future__ import annotations

import statistics
from datetime import timedelta
from decimal import Decimal

import pytest

from providers.models import Deployment
from providers.ops.handoffs import request_summary_get
from providers.ops.selectors import deployment_stats_list, latency_bucket_list, model_latency_list
from providers.ops.windows import bucket_floor, window_get
from tests.providers.ops.conftest import NOW, Seed, attempt_row

START = NOW - timedelta(hours=24)


def quantiles(values: list[float]) -> tuple[float, float, float]:
    """percentile_cont's definition: linear interpolation, inclusive of the extremes."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


@pytest.fixture
def traffic(seed: Seed, deployments: dict[str, Deployment]) -> dict[str, list[float]]:
    """A day of calls: plain successes, a retry, a fallback, a total failure, a cancel,
    a request straddling the window's start, and a call from before the window."""
    fast_a, fast_b, claude = deployments["fast_a"], deployments["fast_b"], deployments["claude"]
    fast_a_latencies = [90.0, 100.0, 120.0, 130.0, 250.0, 400.0, 3000.0]
    for i, latency in enumerate(fast_a_latencies):
        seed(
            attempt_row(
                fast_a,
                latency_ms=latency,
                ttft_ms=latency / 4,
                prompt_tokens=10 + i,
                completion_tokens=20,
                cost_usd=Decimal("0.0010"),
                created_at=NOW - timedelta(hours=i + 1),
            )
        )
    # a retry inside the group: fast_a fails, fast_b answers
    seed(
        attempt_row(fast_a, status="error", latency_ms=5.0, error_class="UpstreamError"),
        attempt_row(fast_b, latency_ms=200.0, ttft_ms=80.0, prompt_tokens=7, completion_tokens=3),
    )
    # a fallback: both gpt-fast deployments fail, claude answers
    seed(
        attempt_row(fast_a, status="error", latency_ms=7.0),
        attempt_row(fast_b, status="error", latency_ms=9.0),
        attempt_row(claude, latency_ms=900.0, ttft_ms=300.0, completion_tokens=50),
    )
    # every attempt failed (no final row)
    seed(attempt_row(claude, status="error", latency_ms=30_000.0))
    # the caller went away
    seed(attempt_row(fast_b, status="cancelled", latency_ms=50.0, is_final=True))
    # began before the window, retried inside it
    seed(
        attempt_row(fast_a, status="error", created_at=START - timedelta(minutes=1)),
        attempt_row(fast_b, latency_ms=300.0, created_at=START + timedelta(minutes=1)),
    )
    # two days ago: outside every figure
    seed(attempt_row(fast_a, latency_ms=99_999.0, created_at=NOW - timedelta(days=2)))
    # a deployment that has since been deleted
    seed(attempt_row(None, deployment_id=987_654, model_group="gone", provider="gemini"))
    return {"fast_a": fast_a_latencies, "fast_b": [200.0, 300.0], "claude": [900.0]}


def test_per_deployment_figures_match_the_ledger(
    traffic: dict[str, list[float]], deployments: dict[str, Deployment]
) -> None:
    stats = {s.deployment_id: s for s in deployment_stats_list(start=START, end=NOW)}
    fast_a = stats[deployments["fast_a"].pk]
    fast_b = stats[deployments["fast_b"].pk]
    claude = stats[deployments["claude"].pk]

    assert (fast_a.attempts, fast_a.errors) == (9, 2)
    assert fast_a.error_rate == pytest.approx(2 / 9)
    assert fast_a.prompt_tokens == sum(10 + i for i in range(7))
    assert fast_a.completion_tokens == 7 * 20
    assert fast_a.tokens == fast_a.prompt_tokens + fast_a.completion_tokens
    assert fast_a.cost_usd == Decimal("0.0070")
    assert fast_a.latency.samples == 7
    assert fast_a.latency.mean_ms == pytest.approx(statistics.fmean(traffic["fast_a"]))
    assert (fast_a.latency.p50_ms, fast_a.latency.p95_ms, fast_a.latency.p99_ms) == (
        pytest.approx(quantiles(traffic["fast_a"]))
    )
    # errors and cancels count as attempts, never as latency samples
    assert (fast_b.attempts, fast_b.errors, fast_b.cancelled) == (4, 1, 1)
    assert fast_b.latency.samples == 2
    assert fast_b.latency.p50_ms == pytest.approx(250.0)
    assert (claude.attempts, claude.errors) == (2, 1)
    assert claude.latency.p99_ms == pytest.approx(900.0)


def test_retries_and_fallbacks_are_told_apart_per_deployment(
    traffic: dict[str, list[float]], deployments: dict[str, Deployment]
) -> None:
    stats = {s.deployment_id: s.handoffs for s in deployment_stats_list(start=START, end=NOW)}
    fast_a = stats[deployments["fast_a"].pk]
    fast_b = stats[deployments["fast_b"].pk]
    claude = stats[deployments["claude"].pk]
    # fast_a handed two requests on to fast_b (its attempt before the window not counted)
    assert (fast_a.retries_in, fast_a.retries_out) == (0, 2)
    assert (fast_a.fallbacks_in, fast_a.fallbacks_out) == (0, 0)
    # fast_b took three over (one began before the window) and let one fall back to claude
    assert (fast_b.retries_in, fast_b.retries_out) == (3, 0)
    assert (fast_b.fallbacks_in, fast_b.fallbacks_out) == (0, 1)
    assert (claude.retries_in, claude.fallbacks_in, claude.fallbacks_out) == (0, 1, 0)


def test_the_list_holds_idle_and_deleted_deployments_but_not_disabled_idle_ones(
    traffic: dict[str, list[float]], deployments: dict[str, Deployment]
) -> None:
    stats = {s.deployment_id: s for s in deployment_stats_list(start=START, end=NOW)}
    idle = stats[deployments["idle"].pk]
    assert (idle.attempts, idle.error_rate, idle.latency.p50_ms) == (0, None, None)
    assert deployments["off"].pk not in stats
    gone = stats[987_654]
    assert (gone.configured, gone.model_group, gone.provider, gone.attempts) == (
        False,
        "gone",
        "gemini",
        1,
    )
    groups = [s.model_group for s in stats.values()]
    assert groups == sorted(groups)


def test_request_summary_counts_client_requests(traffic: dict[str, list[float]]) -> None:
    summary = request_summary_get(start=START, end=NOW)
    # 7 plain + retry + fallback + failed + cancelled + deleted deployment; the
    # straddling request began before the window
    assert summary.requests == 12
    assert summary.retried == 2
    assert summary.fell_back == 1
    assert summary.failed == 1
    assert summary.cancelled == 1


def test_heatmap_buckets_hold_the_percentiles_of_their_hour(
    seed: Seed, deployments: dict[str, Deployment]
) -> None:
    fast_a, claude = deployments["fast_a"], deployments["claude"]
    hour = bucket_floor(NOW, timedelta(hours=1)) - timedelta(hours=3)
    early = [110.0, 150.0, 90.0, 700.0]
    late = [400.0, 410.0]
    for i, latency in enumerate(early):
        seed(
            attempt_row(
                fast_a,
                latency_ms=latency,
                ttft_ms=latency / 10,
                created_at=hour + timedelta(minutes=5 * i),
            )
        )
    for latency in late:
        seed(
            attempt_row(
                fast_a, latency_ms=latency, created_at=hour + timedelta(hours=1, minutes=59)
            )
        )
    seed(attempt_row(claude, status="error", latency_ms=5.0, created_at=hour))

    window = window_get("24h")
    buckets = latency_bucket_list(
        start=bucket_floor(NOW - window.span, window.bucket), end=NOW, bucket=window.bucket
    )
    by_key = {(b.model_group, b.start): b for b in buckets}
    first = by_key[("gpt-fast", hour)]
    assert first.latency.samples == 4
    assert (first.latency.p50_ms, first.latency.p95_ms, first.latency.p99_ms) == pytest.approx(
        quantiles(early)
    )
    assert first.ttft.samples == 4
    assert first.ttft.p95_ms == pytest.approx(quantiles([v / 10 for v in early])[1])
    second = by_key[("gpt-fast", hour + timedelta(hours=1))]
    assert second.latency.p50_ms == pytest.approx(405.0)
    # no TTFT recorded: an empty figure, not zero
    assert (second.ttft.samples, second.ttft.p50_ms) == (0, None)
    # a bucket with only failures has no latency
    failed = by_key[("claude", hour)]
    assert (failed.latency.samples, failed.latency.p50_ms) == (0, None)
    # buckets are whole local hours
    assert {b.start.astimezone(NOW.tzinfo).minute for b in buckets} == {0}


def test_six_hour_buckets_start_at_seoul_midnight(
    seed: Seed, deployments: dict[str, Deployment]
) -> None:
    seed(attempt_row(deployments["fast_a"], created_at=NOW.replace(hour=5, minute=59)))
    seed(attempt_row(deployments["fast_a"], created_at=NOW.replace(hour=6, minute=0)))
    window = window_get("7d")
    buckets = latency_bucket_list(start=NOW - window.span, end=NOW, bucket=window.bucket)
    starts = sorted(b.start.astimezone(NOW.tzinfo).hour for b in buckets)
    assert starts == [0, 6]


def test_recent_latency_per_model(seed: Seed, deployments: dict[str, Deployment]) -> None:
    values = [100.0, 200.0, 300.0, 1000.0]
    for v in values:
        seed(
            attempt_row(
                deployments["claude"],
                latency_ms=v,
                ttft_ms=v / 2,
                created_at=NOW - timedelta(minutes=2),
            )
        )
    seed(
        attempt_row(deployments["claude"], latency_ms=5000.0, created_at=NOW - timedelta(minutes=6))
    )
    [model] = model_latency_list(start=NOW - timedelta(minutes=5), end=NOW)
    assert model.model_group == "claude"
    assert (model.latency.p50_ms, model.latency.p95_ms, model.latency.p99_ms) == pytest.approx(
        quantiles(values)
    )
    assert model.ttft.p50_ms == pytest.approx(quantiles([v / 2 for v in values])[0])
