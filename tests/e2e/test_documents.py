"""Uploading documents in the browser: several files, a progress bar each, ingestion
by the real worker, and the ACL deciding who sees them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from chatapp.devstack.processes import ManagedProcess
from providers.models import Deployment
from tests.personas import PERSONA_PASSWORD, Personas

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PERSONA_PASSWORD)
    page.click("[data-testid=local-login-submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()


def test_upload_several_files_for_the_department(
    page: Page,
    browser: Browser,
    live_daphne: str,
    personas: Personas,
    deployment_factory: Callable[..., Deployment],
    celery_worker_process: ManagedProcess,
) -> None:
    deployment_factory("embedding", mode="embedding")
    sign_in(page, live_daphne, personas.dept_admin.email)
    page.get_by_test_id("documents-link").click()
    page.get_by_test_id("share").select_option("department")
    page.get_by_test_id("file-input").set_input_files(
        [SAMPLES / "korean.md", SAMPLES / "korean.docx"]
    )
    uploads = page.get_by_test_id("upload")
    expect(uploads).to_have_count(2)
    for i in range(2):
        expect(uploads.nth(i).get_by_test_id("upload-status")).to_have_text(
            "준비됨", timeout=60_000
        )
        expect(uploads.nth(i).locator("progress")).to_have_attribute("value", "100")
    # a member of a team under ENG sees them; HR does not
    for email, visible in ((personas.member.email, True), (personas.outsider.email, False)):
        context = browser.new_context(locale="ko-KR")
        other = context.new_page()
        sign_in(other, live_daphne, email)
        other.goto(f"{live_daphne}/documents/")
        table = other.get_by_test_id("document-table")
        if visible:
            expect(table).to_contain_text("korean.docx")
        else:
            expect(table).not_to_contain_text("korean.docx")
        context.close()
