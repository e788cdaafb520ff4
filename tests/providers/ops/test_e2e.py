"""The operations page in a real browser: it renders under the strict CSP, and the
switches and the model picker work without any script of ours."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from providers.models import Deployment, UsageRecord
from tests.personas import PERSONA_PASSWORD, Personas
from tests.providers.ops.conftest import attempt_row

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def seed_day() -> None:
    """A day of traffic on three models, one of them slow, with some gaps."""
    rng = random.Random(7)
    now = timezone.now()
    models = {
        "gpt-4o-mini": (
            Deployment.objects.create(
                model_name="gpt-4o-mini", provider="openai", upstream_model="gpt-4o-mini"
            ),
            600.0,
        ),
        "claude-sonnet": (
            Deployment.objects.create(
                model_name="claude-sonnet", provider="anthropic", upstream_model="claude-sonnet-4"
            ),
            1800.0,
        ),
        "사내-gemma": (
            Deployment.objects.create(
                model_name="사내-gemma", provider="hosted_vllm", upstream_model="gemma-3-27b"
            ),
            250.0,
        ),
    }
    rows: list[UsageRecord] = []
    for hour in range(24):
        for name, (deployment, typical) in models.items():
            if name == "claude-sonnet" and 3 <= hour < 6:
                continue  # a gap: empty cells
            for _ in range(rng.randint(2, 6)):
                latency = rng.lognormvariate(0, 0.5) * typical * (3 if hour == 10 else 1)
                fields = attempt_row(
                    deployment,
                    latency_ms=latency,
                    ttft_ms=latency / 5,
                    prompt_tokens=rng.randint(50, 500),
                    completion_tokens=rng.randint(20, 300),
                    created_at=now - timedelta(hours=hour, minutes=rng.randint(0, 59)),
                )
                rows.append(UsageRecord(request_id=f"r{len(rows)}", **fields))
    UsageRecord.objects.bulk_create(rows)


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PERSONA_PASSWORD)
    page.click("[data-testid=local-login-submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()


def test_switches_and_model_picker(page: Page, live_daphne: str, personas: Personas) -> None:
    seed_day()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    sign_in(page, live_daphne, personas.platform_admin.email)
    page.goto(f"{live_daphne}/ops/")
    heatmap = page.get_by_test_id("ops-heatmap").locator("svg")
    expect(heatmap).to_be_visible()
    assert heatmap.locator("rect.heatmap-cell").count() == 3 * 25
    assert heatmap.locator("rect.heatmap-cell-empty").count() >= 3

    page.get_by_test_id("ops-percentile").get_by_role("link", name="p50").click()
    expect(page).to_have_url(f"{live_daphne}/ops/?percentile=50#heatmap")
    expect(page.get_by_test_id("ops-percentile").locator("[aria-current=page]")).to_have_text("p50")

    # the model picker submits itself on change (app.js's data-autosubmit)
    page.select_option("#id_model", "사내-gemma")
    expect(page.get_by_test_id("ops-heatmap-title")).to_contain_text("사내-gemma")
    rows = page.get_by_test_id("ops-heatmap-table").locator("tbody th")
    expect(rows).to_have_text(["p50", "p95", "p99"])

    # on a phone the heatmap scrolls sideways inside its box; the page itself does not
    page.set_viewport_size({"width": 390, "height": 844})
    scroller = page.get_by_test_id("ops-heatmap")
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not problems, problems
