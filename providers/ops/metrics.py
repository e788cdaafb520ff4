"""What ``/metrics`` exposes, gathered from the ledger, Redis and this process.

Counters are totals since the ledger began (an aggregate over every row), so
they only ever grow, as Prometheus expects, and ``rate()`` works across
restarts of any web process. Percentiles cannot be added up, so they are gauges
over the last five minutes. The ledger buffer is the serving process's own.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from providers.models import Deployment
from providers.ops.aggregates import QUANTILES
from providers.ops.cooldowns import cooldown_states
from providers.ops.exposition import MetricFamily
from providers.ops.selectors import ledger_total_list, model_latency_list
from providers.runtime import get_runtime

if TYPE_CHECKING:
    from datetime import datetime

    from providers.ops.selectors import Latency

RECENT = timedelta(minutes=5)


def metric_families(*, now: datetime) -> list[MetricFamily]:
    return [
        *_ledger_counters(),
        *_recent_latency(now=now),
        *_deployments(),
        _ledger_pending(),
    ]


def _deployment_label(deployment_id: int | None) -> str:
    return "" if deployment_id is None else str(deployment_id)


def _ledger_counters() -> list[MetricFamily]:
    requests = MetricFamily(
        "gateway_requests_total",
        "counter",
        "Upstream attempts in the usage ledger (retries and fallbacks each count), by outcome.",
    )
    tokens = MetricFamily(
        "gateway_tokens_total", "counter", "Tokens metered in the usage ledger, by direction."
    )
    cost = MetricFamily(
        "gateway_cost_usd_total", "counter", "Cost in US dollars metered in the usage ledger."
    )
    prompt: dict[str, int] = {}
    completion: dict[str, int] = {}
    dollars: dict[str, Decimal] = {}
    for total in ledger_total_list():
        requests.add(
            total.attempts,
            model_group=total.model_group,
            deployment=_deployment_label(total.deployment_id),
            provider=total.provider,
            status=total.status,
        )
        group = total.model_group
        prompt[group] = prompt.get(group, 0) + total.prompt_tokens
        completion[group] = completion.get(group, 0) + total.completion_tokens
        dollars[group] = dollars.get(group, Decimal(0)) + total.cost_usd
    for group in sorted(prompt):
        tokens.add(prompt[group], model_group=group, direction="prompt")
        tokens.add(completion[group], model_group=group, direction="completion")
        cost.add(dollars[group], model_group=group)
    return [requests, tokens, cost]


def _add_quantiles(family: MetricFamily, latency: Latency, model_group: str) -> None:
    values = (latency.p50_ms, latency.p95_ms, latency.p99_ms)
    for quantile, value in zip(QUANTILES, values, strict=True):
        if value is not None:
            family.add(value / 1000, model_group=model_group, quantile=str(quantile))


def _recent_latency(*, now: datetime) -> list[MetricFamily]:
    latency = MetricFamily(
        "gateway_latency_last5m_seconds",
        "gauge",
        "Latency of successful upstream attempts over the last 5 minutes, by quantile.",
    )
    ttft = MetricFamily(
        "gateway_ttft_last5m_seconds",
        "gauge",
        "Time to first token of successful upstream attempts over the last 5 minutes.",
    )
    samples = MetricFamily(
        "gateway_successful_attempts_last5m",
        "gauge",
        "Successful upstream attempts over the last 5 minutes (the quantiles' sample size).",
    )
    for model in model_latency_list(start=now - RECENT, end=now):
        _add_quantiles(latency, model.latency, model.model_group)
        _add_quantiles(ttft, model.ttft, model.model_group)
        samples.add(model.latency.samples, model_group=model.model_group)
    return [latency, ttft, samples]


def _deployments() -> list[MetricFamily]:
    info = MetricFamily(
        "gateway_deployment_info",
        "gauge",
        "Configured deployments (always 1); join on the deployment label for names.",
    )
    cooling = MetricFamily(
        "gateway_deployment_cooling_down",
        "gauge",
        "1 while the router rests the deployment after repeated failures, else 0.",
    )
    remaining = MetricFamily(
        "gateway_deployment_cooldown_remaining_seconds",
        "gauge",
        "Seconds until the deployment's cooldown ends (0 when not cooling down).",
    )
    readable = MetricFamily(
        "gateway_cooldown_state_readable",
        "gauge",
        "1 when the cooldown state could be read from Redis, else 0.",
    )
    deployments = list(Deployment.objects.filter(is_enabled=True).order_by("model_name", "pk"))
    states = cooldown_states(d.pk for d in deployments)
    readable.add(0 if states is None else 1)
    for deployment in deployments:
        labels = {"deployment": str(deployment.pk), "model_group": deployment.model_name}
        info.add(
            1, **labels, provider=deployment.provider, upstream_model=deployment.upstream_model
        )
        if states is None:
            continue
        state = states[deployment.pk]
        cooling.add(1 if state.cooling else 0, **labels)
        remaining.add(state.remaining_seconds, **labels)
    return [info, cooling, remaining, readable]


def _ledger_pending() -> MetricFamily:
    pending = MetricFamily(
        "gateway_ledger_pending_rows",
        "gauge",
        "Usage rows buffered in this process and not yet written to the database.",
    )
    pending.add(get_runtime().ledger.pending)
    return pending
