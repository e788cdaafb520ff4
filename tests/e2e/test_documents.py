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


def test_the_owner_shares_replaces_and_deletes_a_document(
    page: Page,
    browser: Browser,
    live_daphne: str,
    personas: Personas,
    deployment_factory: Callable[..., Deployment],
    celery_worker_process: ManagedProcess,
) -> None:
    deployment_factory("embedding", mode="embedding")
    sign_in(page, live_daphne, personas.member.email)
    page.get_by_test_id("documents-link").click()
    page.get_by_test_id("file-input").set_input_files(SAMPLES / "korean.md")  # only me
    expect(page.get_by_test_id("upload-status")).to_have_text("준비됨", timeout=60_000)

    def hr_sees_it() -> bool:
        context = browser.new_context(locale="ko-KR")
        other = context.new_page()
        sign_in(other, live_daphne, personas.outsider.email)
        other.goto(f"{live_daphne}/documents/")
        seen = "korean.md" in other.get_by_test_id("document-table").inner_text()
        context.close()
        return seen

    assert not hr_sees_it()
    # the owner opens the document's page and shares it with everyone
    page.goto(f"{live_daphne}/documents/")
    page.get_by_test_id("document-link").filter(has_text="korean.md").click()
    expect(page.get_by_test_id("document-title")).to_have_text("korean.md")
    page.get_by_label("조직 전체").check()
    page.get_by_test_id("access-save").click()
    expect(page.locator(".flash")).to_contain_text("읽을 수 있는 사람을 저장했습니다")
    assert hr_sees_it()

    # a new version: read again by the worker, same title, the new file name
    page.get_by_test_id("replace-file").set_input_files(SAMPLES / "korean.docx")
    page.get_by_test_id("replace-submit").click()
    expect(page.locator(".flash")).to_contain_text("새 버전을 읽는 중입니다")
    for _ in range(60):
        if page.get_by_test_id("document-status").inner_text().startswith("준비됨"):
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(page.get_by_test_id("document-status")).to_have_text("준비됨")
    expect(page.get_by_test_id("document-page")).to_contain_text("korean.docx")

    # and deleting asks first; cancelled, nothing happens; accepted, it is gone
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("document-delete").click()
    expect(page.get_by_test_id("document-title")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("document-delete").click()
    expect(page.locator(".flash")).to_contain_text("삭제했습니다")
    expect(page.get_by_test_id("document-table")).not_to_contain_text("korean.md")
    assert not hr_sees_it()
