"""/metrics: the token gate, the text format, and counters that equal the ledger."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from django.db.models import Count, Sum
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from providers.models import Deployment, UsageRecord
from providers.ops.exposition import MetricFamily, escape_label_value, render
from providers.runtime import COOLDOWN_KEY, get_runtime
from tests.providers.ops.conftest import Seed, attempt_row

URL = "/ops/metrics"
TOKEN = "metrics-token-0123456789"

Key = tuple[str, frozenset[tuple[str, str]]]
_LINE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)\Z")
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def parse_labels(text: str) -> frozenset[tuple[str, str]]:
    """``a="x",b="y\\"z"``: a tiny reader of the label syntax, escapes included."""
    labels: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="').match(text, position)
        assert match, f"bad labels at {text[position:]!r}"
        position = match.end()
        value = []
        while text[position] != '"':
            if text[position] == "\\":
                value.append(_UNESCAPE[text[position : position + 2]])
                position += 2
            else:
                value.append(text[position])
                position += 1
        labels.append((match.group(1), "".join(value)))
        position += 1
        if position < len(text):
            assert text[position] == ",", text
            position += 1
    return frozenset(labels)


def parse(body: str) -> tuple[dict[Key, float], dict[str, str]]:
    samples: dict[Key, float] = {}
    types: dict[str, str] = {}
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line.startswith("# HELP ") or not line:
            continue
        else:
            match = _LINE.match(line)
            assert match, f"not exposition format: {line!r}"
            name, labels, value = match.groups()
            assert name in types, f"{name} has no TYPE line before it"
            key = (name, parse_labels(labels or ""))
            assert key not in samples, f"duplicate sample {line!r}"
            samples[key] = float(value)
    return samples, types


def key(name: str, **labels: str) -> Key:
    return (name, frozenset(labels.items()))


def scrape(client: Client) -> tuple[dict[Key, float], dict[str, str]]:
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(response.content.decode())


@pytest.fixture
def token(settings: Settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_off_without_a_configured_token(client: Client, settings: Settings) -> None:
    settings.METRICS_TOKEN = ""
    assert client.get(URL).status_code == 404
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "header",
    [None, "", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer"],
)
def test_a_missing_or_wrong_token_is_401(client: Client, token: str, header: str | None) -> None:
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get(URL, **extra)  # type: ignore[arg-type]
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "gateway_" not in response.content.decode()


def test_the_top_level_path_serves_the_same_view(client: Client, token: str, db: None) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_counters_equal_ledger_sums(
    client: Client, token: str, seed: Seed, deployments: dict[str, Deployment]
) -> None:
    fast_a, claude = deployments["fast_a"], deployments["claude"]
    old = timezone.now() - timedelta(days=400)
    seed(
        attempt_row(
            fast_a, prompt_tokens=11, completion_tokens=5, cost_usd=Decimal("0.25"), created_at=old
        )
    )
    seed(
        attempt_row(fast_a, status="error"),
        attempt_row(claude, prompt_tokens=7, completion_tokens=9, cost_usd=Decimal("0.125")),
    )
    seed(attempt_row(claude, status="cancelled", prompt_tokens=3))
    samples, types = scrape(client)

    assert types["gateway_requests_total"] == "counter"
    grouped = UsageRecord.objects.values(
        "model_group", "deployment_id", "provider", "status"
    ).annotate(n=Count("id"))
    for row in grouped:
        labels = {
            "model_group": row["model_group"],
            "deployment": str(row["deployment_id"]),
            "provider": row["provider"],
            "status": row["status"],
        }
        assert samples[key("gateway_requests_total", **labels)] == row["n"]
    total_requests = sum(v for (name, _), v in samples.items() if name == "gateway_requests_total")
    assert total_requests == UsageRecord.objects.count() == 4

    for group in ("gpt-fast", "claude"):
        sums = UsageRecord.objects.filter(model_group=group).aggregate(
            p=Sum("prompt_tokens"), c=Sum("completion_tokens"), d=Sum("cost_usd")
        )
        assert (
            samples[key("gateway_tokens_total", model_group=group, direction="prompt")] == sums["p"]
        )
        assert (
            samples[key("gateway_tokens_total", model_group=group, direction="completion")]
            == sums["c"]
        )
        assert samples[key("gateway_cost_usd_total", model_group=group)] == pytest.approx(
            float(sums["d"])
        )
    assert samples[key("gateway_cost_usd_total", model_group="claude")] == pytest.approx(0.125)


def test_counters_only_grow(
    client: Client, token: str, seed: Seed, deployments: dict[str, Deployment]
) -> None:
    labels = {
        "model_group": "gpt-fast",
        "deployment": str(deployments["fast_a"].pk),
        "provider": "openai",
        "status": "ok",
    }
    seed(attempt_row(deployments["fast_a"], created_at=timezone.now() - timedelta(days=30)))
    before, _ = scrape(client)
    seed(attempt_row(deployments["fast_a"]))
    after, _ = scrape(client)
    assert before[key("gateway_requests_total", **labels)] == 1
    assert after[key("gateway_requests_total", **labels)] == 2


def test_recent_percentiles_cooldowns_and_pending_rows(
    client: Client,
    token: str,
    seed: Seed,
    deployments: dict[str, Deployment],
    redis_client: redis.Redis,
) -> None:
    now = timezone.now()
    for latency in (100.0, 200.0, 300.0, 400.0, 500.0):
        seed(
            attempt_row(
                deployments["claude"],
                latency_ms=latency,
                ttft_ms=latency / 10,
                created_at=now - timedelta(minutes=1),
            )
        )
    seed(
        attempt_row(
            deployments["claude"], latency_ms=90_000.0, created_at=now - timedelta(minutes=7)
        )
    )
    redis_client.set(COOLDOWN_KEY.format(deployments["fast_b"].pk), "1", ex=120)
    samples, types = scrape(client)

    assert types["gateway_latency_last5m_seconds"] == "gauge"
    seconds = {
        q: samples[key("gateway_latency_last5m_seconds", model_group="claude", quantile=q)]
        for q in ("0.5", "0.95", "0.99")
    }
    assert seconds == {
        "0.5": pytest.approx(0.3),
        "0.95": pytest.approx(0.48),
        "0.99": pytest.approx(0.496),
    }
    assert samples[
        key("gateway_ttft_last5m_seconds", model_group="claude", quantile="0.5")
    ] == pytest.approx(0.03)
    assert samples[key("gateway_successful_attempts_last5m", model_group="claude")] == 5

    fast_b = {"deployment": str(deployments["fast_b"].pk), "model_group": "gpt-fast"}
    fast_a = {"deployment": str(deployments["fast_a"].pk), "model_group": "gpt-fast"}
    assert samples[key("gateway_deployment_cooling_down", **fast_b)] == 1
    assert samples[key("gateway_deployment_cooling_down", **fast_a)] == 0
    assert 100 < samples[key("gateway_deployment_cooldown_remaining_seconds", **fast_b)] <= 120
    assert samples[key("gateway_cooldown_state_readable")] == 1
    # disabled deployments are not exported
    assert not any(
        dict(labels).get("deployment") == str(deployments["off"].pk) for _, labels in samples
    )
    assert samples[key("gateway_ledger_pending_rows")] == get_runtime().ledger.pending


def test_unreadable_redis_is_reported_not_an_error(
    client: Client, token: str, deployments: dict[str, Deployment], settings: Settings
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    samples, _ = scrape(client)
    assert samples[key("gateway_cooldown_state_readable")] == 0
    assert not any(name == "gateway_deployment_cooling_down" for name, _ in samples)


def test_label_values_are_escaped(client: Client, token: str, seed: Seed, db: None) -> None:
    odd = 'say "hi"\\n\nnext'
    seed(attempt_row(None, model_group=odd, provider="openai", deployment_id=None, prompt_tokens=4))
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    body = response.content.decode()
    assert 'model_group="say \\"hi\\"\\\\n\\nnext"' in body
    samples, _ = parse(body)
    assert samples[key("gateway_tokens_total", model_group=odd, direction="prompt")] == 4
    assert (
        samples[
            key(
                "gateway_requests_total",
                model_group=odd,
                deployment="",
                provider="openai",
                status="ok",
            )
        ]
        == 1
    )


def test_exposition_formatter() -> None:
    family = MetricFamily("x_total", "counter", "Help with \\ and\nnewline.")
    family.add(3, a='"')
    family.add(Decimal("0.5"), a="b")
    family.add(float("inf"), a="c")
    assert render([family]) == (
        "# HELP x_total Help with \\\\ and\\nnewline.\n"
        "# TYPE x_total counter\n"
        'x_total{a="\\""} 3\n'
        'x_total{a="b"} 0.5\n'
        'x_total{a="c"} +Inf\n'
    )
    assert escape_label_value("a\\b") == "a\\\\b"
    with pytest.raises(ValueError, match="invalid label name"):
        family.add(1, **{"bad-name": "x"})
    with pytest.raises(ValueError, match="invalid metric name"):
        MetricFamily("bad name", "gauge", "")
