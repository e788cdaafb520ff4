"""A department admin sets a rule and tries the guard, in headless chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from providers.pii.models import PiiPolicy
from tests.personas import PERSONA_PASSWORD, Personas

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PERSONA_PASSWORD)
    page.click("[data-testid=local-login-submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()


def test_dept_admin_blocks_a_model_for_a_team_and_tries_a_text(
    page: Page, live_daphne: str, personas: Personas
) -> None:
    problems: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", note)
    sign_in(page, live_daphne, personas.dept_admin.email)
    page.goto(f"{live_daphne}/pii/")
    form = page.get_by_test_id("pii-rule-form")
    form.locator("select[name=department]").select_option(str(personas.eng_plat.pk))
    form.locator("input[name=model_name]").fill("gpt-4o")
    form.locator("select[name=action]").select_option("block")
    form.locator("button[type=submit]").click()
    policy = PiiPolicy.objects.get()
    row = page.get_by_test_id(f"pii-rule-{policy.pk}")
    expect(row).to_contain_text("플랫폼팀")
    expect(row).to_contain_text("gpt-4o")
    expect(page.get_by_test_id("pii-effective")).to_contain_text("gpt-4o")

    page.get_by_test_id("pii-try-form").locator("textarea").fill(
        "신규 입사자 주민번호 900101-1234568, 연락처 010-1234-5678 입니다."
    )
    page.get_by_test_id("pii-try-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("pii-masked")).to_have_text(
        "신규 입사자 주민번호 [주민등록번호], 연락처 [전화번호] 입니다."
    )
    expect(page.get_by_test_id("pii-try-result").locator(".pii-found li")).to_have_count(2)
    assert not problems, problems
