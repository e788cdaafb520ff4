"""The operations page: who may see it, and what it shows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from pytest_django.fixtures import Settings

from providers import gateway
from providers.models import Deployment, RouterSettings
from providers.runtime import COOLDOWN_KEY, get_runtime
from providers.types import ChatMessage, ChatRequest
from tests.fake_upstream import FakeUpstream
from tests.personas import Personas
from tests.providers.ops.conftest import Seed, attempt_row

URL = "/ops/"


def page(client: Client, personas: Personas, query: str = "") -> str:
    client.force_login(personas.platform_admin)
    response = client.get(URL + query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def figure(html: str, deployment_id: int, name: str) -> str:
    row = re.search(rf'<tr data-deployment="{deployment_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, f"no row for deployment {deployment_id}"
    cell = re.search(rf'data-figure="{name}"[^>]*>(.*?)</td>', row.group(1), re.S)
    assert cell, f"no {name} for deployment {deployment_id}"
    return " ".join(strip_tags(cell.group(1)).split())


def test_url_name() -> None:
    assert reverse("ops:dashboard") == URL


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("platform_admin", 200),
        ("dept_admin", 404),
        ("finance", 404),
        ("member", 404),
        ("outsider", 404),
    ],
)
def test_only_platform_admins_see_the_page(
    client: Client, personas: Personas, persona: str, status: int
) -> None:
    client.force_login(getattr(personas, persona))
    assert client.get(URL).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, db: None) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_table_and_heatmap_show_the_ledger(
    client: Client, personas: Personas, seed: Seed, deployments: dict[str, Deployment]
) -> None:
    now = timezone.now()
    fast_a, fast_b = deployments["fast_a"], deployments["fast_b"]
    for latency in (100.0, 200.0, 300.0):
        seed(attempt_row(fast_a, latency_ms=latency, created_at=now - timedelta(minutes=20)))
    seed(
        attempt_row(fast_a, status="error", created_at=now - timedelta(minutes=10)),
        attempt_row(fast_b, latency_ms=1500.0, created_at=now - timedelta(minutes=10)),
    )
    seed(attempt_row(fast_a, latency_ms=9999.0, created_at=now - timedelta(hours=3)))
    seed(attempt_row(deployments["claude"], created_at=now - timedelta(minutes=1)))

    html = page(client, personas, "?window=1h")
    assert figure(html, fast_a.pk, "attempts") == "4"
    assert figure(html, fast_a.pk, "errors") == "1 (25.0 %)"
    assert figure(html, fast_a.pk, "retries") == "0 / 1"
    assert figure(html, fast_b.pk, "retries") == "1 / 0"
    assert figure(html, fast_a.pk, "p50") == "200 ms"
    assert figure(html, fast_b.pk, "p95") == "1.50 s"
    assert figure(html, deployments["idle"].pk, "p50") == "—"
    assert 'data-figure="requests">5<' in html
    assert 'data-figure="retried">1<' in html
    # the heatmap: one row per model group with calls (gpt-fast, claude), 13 five-minute columns
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg
    assert svg.group(0).count('class="heatmap-cell') == 2 * 13
    assert "p95 latency per model over time" in html
    assert '<details class="ops-heatmap-table">' in html

    wide = page(client, personas, "?window=24h")
    assert figure(wide, fast_a.pk, "attempts") == "5"


def test_metric_percentile_and_model_switches(
    client: Client, personas: Personas, seed: Seed, deployments: dict[str, Deployment]
) -> None:
    now = timezone.now()
    seed(attempt_row(deployments["claude"], ttft_ms=321.0, created_at=now - timedelta(minutes=5)))
    html = page(client, personas, "?metric=ttft&percentile=99")
    assert "p99 time to first token per model over time" in html
    assert "321 ms" in html
    focused = page(client, personas, "?model=claude&metric=ttft")
    table = re.search(r'data-testid="ops-heatmap-table">(.*?)</table>', focused, re.S)
    assert table
    assert [strip_tags(th) for th in re.findall(r'<th scope="row">(.*?)</th>', table.group(1))] == [
        "p50",
        "p95",
        "p99",
    ]


@pytest.mark.parametrize(
    "query", ["?window=2y", "?metric=cost", "?percentile=42", "?model=nonexistent"]
)
def test_bad_filters_are_a_400_that_says_why(
    client: Client, personas: Personas, query: str
) -> None:
    client.force_login(personas.platform_admin)
    response = client.get(URL + query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_model_names_are_escaped(
    client: Client, personas: Personas, seed: Seed, deployments: dict[str, Deployment]
) -> None:
    evil = '<script>alert("ops")</script>'
    Deployment.objects.create(model_name=evil, provider="openai", upstream_model="x")
    seed(attempt_row(None, model_group=evil, created_at=timezone.now() - timedelta(minutes=1)))
    html = page(client, personas)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;ops&quot;)&lt;/script&gt;" in html


def test_korean_is_the_default_language(client: Client, personas: Personas) -> None:
    client.force_login(personas.platform_admin)
    response = client.get(URL)
    assert response.status_code == 200
    assert '<html lang="ko">' in response.content.decode()


def test_cooling_deployments_show_until_when(
    client: Client,
    personas: Personas,
    deployments: dict[str, Deployment],
    redis_client: redis.Redis,
) -> None:
    redis_client.set(COOLDOWN_KEY.format(deployments["fast_b"].pk), "1", ex=90)
    html = page(client, personas)
    cooldown = figure(html, deployments["fast_b"].pk, "cooldown")
    assert re.fullmatch(r"\d\d:\d\d:\d\d \((89|90) s left\)", cooldown), cooldown
    assert figure(html, deployments["fast_a"].pk, "cooldown") == "no"
    assert 'data-figure="cooling">1<' in html


def test_the_page_says_so_when_redis_cannot_be_read(
    client: Client,
    personas: Personas,
    deployments: dict[str, Deployment],
    settings: Settings,
) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    html = page(client, personas)
    assert "The cooldown state could not be read from Redis" in html
    assert figure(html, deployments["fast_a"].pk, "cooldown") == "—"


def test_real_gateway_traffic_shows_retries_and_a_cooldown(
    client: Client,
    personas: Personas,
    deployment_factory: Callable[..., Deployment],
    fake_upstream: FakeUpstream,
    redis_client: redis.Redis,
) -> None:
    """End to end: the router's own failure handling, read back by the page."""
    RouterSettings.objects.update_or_create(
        pk=1, defaults={"num_retries": 1, "allowed_fails": 1, "cooldown_seconds": 60}
    )
    broken = deployment_factory("pair", api_base="http://127.0.0.1:9/v1", weight=1000)
    healthy = deployment_factory("pair")
    get_runtime().forget_config()
    for _ in range(3):
        gateway.chat(ChatRequest(model="pair", messages=[ChatMessage(role="user", content="hi")]))
    get_runtime().ledger.flush_sync()
    html = page(client, personas)
    assert figure(html, broken.pk, "errors") == "1 (100.0 %)"
    assert figure(html, broken.pk, "retries") == "0 / 1"
    assert figure(html, healthy.pk, "retries") == "1 / 0"
    assert figure(html, healthy.pk, "attempts") == "3"
    assert "s left)" in figure(html, broken.pk, "cooldown")
    assert "1 cooldown in this window" in figure(html, broken.pk, "cooldown")
    assert "cooldown in this window" not in figure(html, healthy.pk, "cooldown")
