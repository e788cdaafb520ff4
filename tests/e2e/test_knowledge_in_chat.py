"""Company knowledge, end to end in the browser: a department admin uploads an HWP, a
scanned PDF and a DOCX for the department, the real worker makes them ready (the scan
through OCR), a member of the department gets cited answers from them in the chat, and
a member of another department gets nothing from them.

The fake model only echoes the question (``Echo: <question>``), so what the documents
contribute is checked where it goes: the citations under the answer, and the prompt
the model was sent (recorded by the fake upstream)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from chatapp.devstack.processes import ManagedProcess
from chatapp.models import MessageCitation
from providers.models import Deployment
from rag.ingestion.parsers.ocr import ocr_available
from tests.e2e.test_chat import sign_in, start_chat
from tests.fake_upstream import FakeUpstream
from tests.personas import Personas
from tests.rag.documents import image_pdf

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"

HWP = "noori-press-release.hwp"
DOCX = "korean.docx"
SCAN = "korean_scan.pdf"  # made from korean_scan.png in the test: one page, no text layer
READY = "준비됨"
INGESTION_TIMEOUT_MS = 180_000  # three documents one after another, one of them by OCR
ANSWER_TIMEOUT_MS = 30_000

# In the DOCX and (as OCR reads it) the scan; the answer, "다음 해 3월까지", is not asked.
LEAVE_QUESTION = "미사용 연차는 언제까지 이월할 수 있나요?"
LEAVE_ANSWER = "다음 해 3월까지"
SCAN_ONLY = "사내 휴가 규정 안내"  # the scan's first line: in no other document
# In the HWP's appendix table (누리호 | 이륙 중량 | 200 톤).
ROCKET_QUESTION = "누리호의 이륙 중량은 얼마인가요?"
ROCKET_ANSWER = "200 톤"
DOCUMENT_TEXTS = (LEAVE_ANSWER, SCAN_ONLY, ROCKET_ANSWER, "거대공공연구정책과", "2년마다 1일")


def ask(page: Page, question: str) -> Locator:
    """Send ``question`` and wait for its answer to complete; the answer's list item."""
    answers = page.locator("li.message.assistant")
    before = answers.count()
    page.get_by_test_id("composer-text").fill(question)
    page.get_by_test_id("composer-text").press("Enter")
    expect(answers).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
    answer = answers.nth(before)
    expect(answer).to_have_attribute("data-status", "complete", timeout=ANSWER_TIMEOUT_MS)
    # an echo: the model was asked this question, and the documents add nothing to it
    expect(answer.locator(".bubble")).to_have_text(f"Echo: {question}")
    return answer


def text_of(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def prompt_sent_for(fake_upstream: FakeUpstream, question: str) -> list[dict[str, str]]:
    """The messages of the last chat request whose user turn was ``question``."""
    for request in reversed(fake_upstream.requests):
        if not request.path.endswith("/chat/completions"):
            continue
        messages = [
            {"role": str(m.get("role")), "content": text_of(m.get("content"))}
            for m in request.body.get("messages") or []
        ]
        users = [m for m in messages if m["role"] == "user"]
        if users and users[-1]["content"] == question:
            return messages
    raise AssertionError(f"the model was never asked {question!r}")


def system_text(messages: list[dict[str, str]]) -> str:
    return "\n".join(m["content"] for m in messages if m["role"] == "system")


@pytest.fixture
def scanned_pdf(tmp_path: Path) -> Path:
    """An image-only PDF of the sample scan, so its text can come only from OCR."""
    if not ocr_available():
        pytest.fail(
            "This test needs tesseract with the Korean model: "
            "apt-get install tesseract-ocr tesseract-ocr-kor"
        )
    path = tmp_path / SCAN
    path.write_bytes(image_pdf((SAMPLES / "korean_scan.png").read_bytes()))
    return path


def test_department_documents_answer_their_department_only(
    page: Page,
    browser: Browser,
    live_daphne: str,
    personas: Personas,
    deployment_factory: Callable[..., Deployment],
    fake_upstream: FakeUpstream,
    celery_worker_process: ManagedProcess,
    scanned_pdf: Path,
) -> None:
    deployment_factory("embedding", mode="embedding")
    deployment_factory("chat-model", description="사내 모델")

    # given: the ENG admin uploads three documents in one go for ENG and its teams
    sign_in(page, live_daphne, personas.dept_admin.email)
    page.get_by_test_id("documents-link").click()
    page.get_by_test_id("share").select_option("department")
    files = [SAMPLES / HWP, scanned_pdf, SAMPLES / DOCX]
    page.get_by_test_id("file-input").set_input_files(files)
    uploads = page.get_by_test_id("upload")
    expect(uploads).to_have_count(len(files))
    # and watches each become ready, its progress bar full
    for i, path in enumerate(files):
        upload = uploads.nth(i)
        expect(upload).to_contain_text(path.name)
        expect(upload.get_by_test_id("upload-status")).to_have_text(
            READY, timeout=INGESTION_TIMEOUT_MS
        )
        expect(upload.locator("progress")).to_have_attribute("value", "100")

    # when: a member of a team under ENG asks about them in the chat
    member_context = browser.new_context(locale="ko-KR")
    member = member_context.new_page()
    sign_in(member, live_daphne, personas.member.email)
    start_chat(member)
    leave = ask(member, LEAVE_QUESTION)
    rocket = ask(member, ROCKET_QUESTION)

    # then: the leave answer cites the DOCX and the scanned PDF (page 1) among four passages
    leave_citations = leave.get_by_test_id("citations")
    expect(leave_citations.locator("li")).to_have_count(4)
    expect(leave_citations).to_contain_text(DOCX)
    expect(leave_citations).to_contain_text(f"{SCAN} · p. 1")
    # and the rocket answer's first source is the HWP
    rocket_citations = rocket.get_by_test_id("citations")
    expect(rocket_citations.locator("li")).to_have_count(4)
    expect(rocket_citations.locator("li").first).to_have_text(f"[1] {HWP}")
    # and the model was given the documents' text, numbered to cite: the OCR'd scan too
    leave_prompt = system_text(prompt_sent_for(fake_upstream, LEAVE_QUESTION))
    assert "[1] " in leave_prompt
    assert LEAVE_ANSWER in leave_prompt
    assert SCAN_ONLY in leave_prompt
    assert f"{SCAN} (p. 1)" in leave_prompt
    rocket_prompt = system_text(prompt_sent_for(fake_upstream, ROCKET_QUESTION))
    assert f"[1] {HWP}\n" in rocket_prompt
    assert ROCKET_ANSWER in rocket_prompt
    # and the citations are kept with the answers: the same after a reload
    member.reload()
    answers = member.locator("li.message.assistant")
    expect(answers).to_have_count(2)
    expect(answers.nth(0).get_by_test_id("citations")).to_contain_text(f"{SCAN} · p. 1")
    expect(answers.nth(0).get_by_test_id("citations")).to_contain_text(DOCX)
    expect(answers.nth(1).get_by_test_id("citations").locator("li").first).to_have_text(
        f"[1] {HWP}"
    )
    # and a citation opens its passage, the text the model was given
    link = answers.nth(1).get_by_test_id("citation-link").first
    passage_url = live_daphne + (link.get_attribute("href") or "")
    with member_context.expect_page() as opened:
        link.click()
    passage = opened.value
    expect(passage.get_by_test_id("passage-title")).to_have_text(HWP)
    passage_text = passage.get_by_test_id("passage-text").inner_text()
    assert passage_text.split("\n")[0] in rocket_prompt
    member_context.close()

    # when: someone in HR asks the same questions
    outsider_context = browser.new_context(locale="ko-KR")
    outsider = outsider_context.new_page()
    sign_in(outsider, live_daphne, personas.outsider.email)
    start_chat(outsider)
    for question in (LEAVE_QUESTION, ROCKET_QUESTION):
        ask(outsider, question)
        # then: the model got the question alone, nothing from ENG's documents
        sent = prompt_sent_for(fake_upstream, question)
        assert [m["role"] for m in sent if m["role"] == "system"] == []
        everything = "\n".join(m["content"] for m in sent)
        for text in DOCUMENT_TEXTS:
            assert text not in everything
    # and no answer cites anything, on the page or after a reload
    expect(outsider.get_by_test_id("citations")).to_have_count(0)
    outsider.reload()
    expect(outsider.locator("li.message.assistant")).to_have_count(2)
    expect(outsider.get_by_test_id("citations")).to_have_count(0)
    messages = outsider.get_by_test_id("messages")
    for text in DOCUMENT_TEXTS:
        expect(messages).not_to_contain_text(text)
    assert not MessageCitation.objects.filter(
        message__conversation__user=personas.outsider
    ).exists()
    # and the member's cited passage is not found for them either
    response = outsider.goto(passage_url)
    assert response is not None and response.status == 404
    expect(outsider.locator("body")).not_to_contain_text(passage_text.split("\n")[0])
    outsider_context.close()


MEMO_NAME = "누리 회의록.txt"
MEMO_FACT = "출시일은 2027년 3월 14일로 정했다"
MEMO_QUESTION = "누리 회의록에서 정한 출시일은?"


def test_a_file_attached_to_a_conversation_answers_there_only(
    page: Page,
    live_daphne: str,
    personas: Personas,
    deployment_factory: Callable[..., Deployment],
    fake_upstream: FakeUpstream,
    celery_worker_process: ManagedProcess,
    tmp_path: Path,
) -> None:
    deployment_factory("embedding", mode="embedding")
    deployment_factory("chat-model", description="사내 모델")
    memo = tmp_path / MEMO_NAME
    memo.write_text(f"# 프로젝트 누리 회의록\n\n{MEMO_FACT}.\n", encoding="utf-8")

    # given a member who attaches a file to a new conversation
    sign_in(page, live_daphne, personas.member.email)
    start_chat(page)
    page.get_by_test_id("attach-input").set_input_files(memo)
    chip = page.get_by_test_id("conversation-file")
    expect(chip).to_have_count(1)
    expect(chip).to_contain_text(MEMO_NAME)
    # then it is read by the worker, its status followed on the page
    expect(chip.get_by_test_id("file-status")).to_have_text(READY, timeout=60_000)
    # when they ask about it, the answer cites it
    answer = ask(page, MEMO_QUESTION)
    expect(answer.get_by_test_id("citations")).to_contain_text(f"[1] {MEMO_NAME}")
    assert MEMO_FACT in system_text(prompt_sent_for(fake_upstream, MEMO_QUESTION))
    # and the file stays with the conversation after a reload
    page.reload()
    expect(page.get_by_test_id("conversation-file")).to_contain_text(MEMO_NAME)
    expect(page.get_by_test_id("file-status")).to_have_text(READY)
    conversation_url = page.url

    # when they ask the same in another conversation, the file is not there
    page.goto(f"{live_daphne}/")
    start_chat(page)
    expect(page.get_by_test_id("conversation-file")).to_have_count(0)
    fake_upstream.requests.clear()
    other = ask(page, MEMO_QUESTION)
    expect(other.get_by_test_id("citations")).to_have_count(0)
    assert MEMO_FACT not in system_text(prompt_sent_for(fake_upstream, MEMO_QUESTION))

    # and once removed from its conversation, it is gone
    page.goto(conversation_url)
    page.get_by_test_id("file-remove").click()
    expect(page.get_by_test_id("conversation-file")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("conversation-file")).to_have_count(0)
