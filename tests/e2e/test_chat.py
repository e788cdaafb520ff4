"""Chatting in the browser: headless chromium against daphne and the fake upstream."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from chatapp.models import Conversation, Message
from providers.models import Deployment
from tests.fake_upstream import FakeUpstream, Fault
from tests.personas import PERSONA_PASSWORD, Personas

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PERSONA_PASSWORD)
    page.click("[data-testid=local-login-submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()


def start_chat(page: Page) -> None:
    page.get_by_test_id("start-chat").click()
    expect(page.get_by_test_id("composer-text")).to_be_visible()
    # the deferred chat.js has run (it handles Enter) once the DOM is loaded
    page.wait_for_load_state("domcontentloaded")


def send(page: Page, text: str) -> None:
    page.get_by_test_id("composer-text").fill(text)
    page.get_by_test_id("composer-text").press("Enter")


@pytest.fixture
def chat_model(deployment_factory: Callable[..., Deployment]) -> Deployment:
    return deployment_factory("chat-model", description="사내 모델")


def test_chat_streams_renders_and_survives_a_reload(
    page: Page,
    live_daphne: str,
    personas: Personas,
    chat_model: Deployment,
    fake_upstream: FakeUpstream,
) -> None:
    # given a signed-in employee in a new conversation
    sign_in(page, live_daphne, personas.member.email)
    start_chat(page)
    # when they ask something whose echo contains code and math
    send(page, "짧게 답해줘 `print(1)` and $E=mc^2$")
    # then the rendered answer appears, with the math as MathML
    answer = page.locator("li.message.assistant").last
    expect(answer).to_have_attribute("data-status", "complete", timeout=15_000)
    expect(answer.locator(".bubble code")).to_contain_text("print(1)")
    expect(answer.locator("math")).to_have_count(1)
    # and a long answer streams slowly; the page is reloaded in the middle
    fake_upstream.inject(Fault(chunk_delay=0.08))
    words = " ".join(f"단어{i}" for i in range(40))
    send(page, words)
    streaming = page.locator('li.message.assistant[data-status="streaming"]')
    expect(streaming).to_have_count(1, timeout=10_000)
    page.wait_for_timeout(800)
    page.reload()
    last = page.locator("li.message.assistant").last
    expect(last).to_have_attribute("data-status", "complete", timeout=20_000)
    expect(last.locator(".bubble")).to_have_text(f"Echo: {words}")
    stored = Message.objects.filter(role="assistant").order_by("-id").first()
    assert stored is not None
    assert stored.content == f"Echo: {words}"


def test_going_offline_mid_stream_loses_nothing(
    page: Page,
    context: BrowserContext,
    live_daphne: str,
    personas: Personas,
    chat_model: Deployment,
    fake_upstream: FakeUpstream,
) -> None:
    sign_in(page, live_daphne, personas.member.email)
    start_chat(page)
    fake_upstream.inject(Fault(chunk_delay=0.08))
    words = " ".join(f"w{i}" for i in range(40))
    send(page, words)
    expect(page.locator('li.message.assistant[data-status="streaming"]')).to_have_count(
        1, timeout=10_000
    )
    page.wait_for_timeout(600)
    context.set_offline(True)
    page.wait_for_timeout(1500)
    context.set_offline(False)
    last = page.locator("li.message.assistant").last
    expect(last).to_have_attribute("data-status", "complete", timeout=20_000)
    expect(last.locator(".bubble")).to_have_text(f"Echo: {words}")


def test_rename_search_delete_and_restore(
    page: Page, live_daphne: str, personas: Personas, chat_model: Deployment
) -> None:
    sign_in(page, live_daphne, personas.member.email)
    start_chat(page)
    send(page, "연차 규정이 궁금해요")
    expect(page.locator("li.message.assistant").last).to_have_attribute(
        "data-status", "complete", timeout=15_000
    )
    # rename
    page.fill("#conversation-title", "연차 문의")
    page.locator("[data-testid=rename-form] button").click()
    expect(page.get_by_test_id("conversation-list")).to_contain_text("연차 문의")
    # search by content, in Korean
    page.fill("#chat-search", "규정이")
    page.press("#chat-search", "Enter")
    expect(page.get_by_test_id("conversation-list")).to_contain_text("연차 문의")
    page.fill("#chat-search", "없는내용")
    page.press("#chat-search", "Enter")
    expect(page.get_by_test_id("conversation-list")).not_to_contain_text("연차 문의")
    # delete, then restore from the bin
    conversation = Conversation.objects.get(title="연차 문의")
    page.goto(f"{live_daphne}/chat/{conversation.pk}/")
    page.get_by_test_id("delete-conversation").click()
    expect(page.get_by_test_id("conversation-list")).not_to_contain_text("연차 문의")
    page.goto(f"{live_daphne}/chat/bin/")
    page.get_by_test_id("restore").click()
    expect(page.get_by_test_id("conversation-list")).to_contain_text("연차 문의")


def test_errors_show_inline_in_korean_with_a_retry(
    page: Page,
    live_daphne: str,
    personas: Personas,
    chat_model: Deployment,
    fake_upstream: FakeUpstream,
) -> None:
    sign_in(page, live_daphne, personas.member.email)
    start_chat(page)
    fake_upstream.inject(Fault(status=503, times=20))
    send(page, "hello")
    error = page.get_by_test_id("answer-error")
    expect(error).to_contain_text("모델이 응답하지 못했습니다", timeout=30_000)
    fake_upstream.reset()
    expect(page.locator("li.message.assistant").last.get_by_test_id("regenerate")).to_have_text(
        "다시 시도"
    )
    page.locator('[data-action="regenerate"]').last.click()
    expect(page.locator("li.message.assistant").last).to_have_attribute(
        "data-status", "complete", timeout=15_000
    )


def test_someone_elses_conversation_is_not_found(
    page: Page, live_daphne: str, personas: Personas, chat_model: Deployment
) -> None:
    from chatapp.services import conversation_create

    other = conversation_create(user=personas.outsider, model_name="chat-model")
    sign_in(page, live_daphne, personas.member.email)
    response = page.goto(f"{live_daphne}/chat/{other.pk}/")
    assert response is not None
    assert response.status == 404


def test_regenerate_edit_and_move_between_versions(
    page: Page, live_daphne: str, personas: Personas, chat_model: Deployment
) -> None:
    sign_in(page, live_daphne, personas.member.email)
    start_chat(page)
    send(page, "첫 번째 질문")
    answers = page.locator("li.message.assistant")
    expect(answers.last).to_have_attribute("data-status", "complete", timeout=15_000)
    # a just-finished answer has the same actions as after a reload
    for action in ("regenerate", "copy-answer", "delete-message"):
        expect(answers.last.get_by_test_id(action)).to_be_visible()
    # and so has the question just sent (edit, copy, delete), once, without a reload
    question = page.locator("li.message.user").last
    for action in ("edit-message", "delete-message"):
        expect(question.get_by_test_id(action)).to_have_count(1)
    expect(question.locator('[data-action="copy"]')).to_have_count(1)
    # regenerate: a second version of the answer
    page.locator('li.message.assistant [data-action="regenerate"]').last.click()
    expect(answers).to_have_count(2, timeout=15_000)
    expect(answers.last).to_have_attribute("data-status", "complete", timeout=15_000)
    page.reload()
    nav = page.locator("li.message.assistant").get_by_test_id("sibling-nav")
    expect(nav).to_contain_text("2 / 2")
    nav.get_by_role("button").first.click()
    expect(page.locator("li.message.assistant").get_by_test_id("sibling-nav")).to_contain_text(
        "1 / 2"
    )
    # edit the question: a new branch with its own answer
    page.get_by_test_id("edit-message").first.click()
    page.get_by_test_id("edit-text").fill("고친 질문")
    page.get_by_test_id("edit-save").click()
    expect(page.locator("li.message.user .bubble")).to_have_text("고친 질문", timeout=15_000)
    expect(page.locator("li.message.assistant").last).to_have_attribute(
        "data-status", "complete", timeout=15_000
    )
    expect(page.locator("li.message.assistant .bubble").last).to_have_text("Echo: 고친 질문")
    expect(page.locator("li.message.user").get_by_test_id("sibling-nav")).to_contain_text("2 / 2")


def test_an_html_answer_opens_as_a_sandboxed_artifact(
    page: Page, live_daphne: str, personas: Personas, chat_model: Deployment
) -> None:
    sign_in(page, live_daphne, personas.member.email)
    start_chat(page)
    page.get_by_test_id("composer-text").fill(
        "\n```html\n<p id=\"out\">before</p><script>document.getElementById('out').textContent = "
        "'ran:' + (function () { try { return parent.document.title; }"
        " catch (e) { return 'blocked'; } })()"
        "</script>\n```\n"
    )
    page.get_by_test_id("composer-text").press("Enter")
    expect(page.locator("li.message.assistant").last).to_have_attribute(
        "data-status", "complete", timeout=15_000
    )
    page.get_by_test_id("open-artifact").click()
    expect(page.get_by_test_id("artifact-panel")).to_be_visible()
    artifact = page.frame_locator("#artifact-frame")
    # the document's own script runs, but it cannot reach the page around it
    expect(artifact.locator("#out")).to_have_text("ran:blocked")


def test_a_template_with_variables_fills_the_composer(
    page: Page, live_daphne: str, personas: Personas, chat_model: Deployment
) -> None:
    from chatapp.templates_prompts import prompt_template_create

    prompt_template_create(
        owner=personas.member, title="안내 메일", body="{{고객명}}님께 보낼 메일", scope="private"
    )
    sign_in(page, live_daphne, personas.member.email)
    start_chat(page)
    page.get_by_test_id("template-select").select_option(label="안내 메일")
    page.get_by_test_id("template-form").locator("input").fill("김민수")
    page.get_by_test_id("template-insert").click()
    expect(page.get_by_test_id("composer-text")).to_have_value("김민수님께 보낼 메일")


def test_side_by_side_comparison_streams_both_and_records_the_pick(
    page: Page, live_daphne: str, personas: Personas, deployment_factory: Callable[..., Deployment]
) -> None:
    from chatapp.models import Comparison

    deployment_factory("model-a", upstream_model="a-up")
    deployment_factory("model-b", upstream_model="b-up")
    sign_in(page, live_daphne, personas.member.email)
    page.get_by_test_id("compare-link").click()
    page.fill("textarea[name=prompt]", "두 모델을 비교해 보자")
    page.check("input[value=model-a]")
    page.check("input[value=model-b]")
    page.get_by_test_id("compare-form").locator("button[type=submit]").click()
    columns = page.get_by_test_id("compare-column")
    expect(columns).to_have_count(2)
    for i in range(2):
        expect(columns.nth(i)).to_have_attribute("data-status", "complete", timeout=15_000)
        expect(columns.nth(i).locator(".bubble")).to_have_text("Echo: 두 모델을 비교해 보자")
        expect(columns.nth(i).get_by_test_id("compare-meta")).to_contain_text("ms")
    columns.nth(1).get_by_test_id("vote").click()
    expect(page.get_by_test_id("compare-column").nth(1).get_by_test_id("vote")).to_have_class(
        "small primary"
    )
    assert Comparison.objects.get().winner_model == "model-b"
    # the columns stay out of the conversation list
    expect(page.get_by_test_id("conversation-list")).not_to_contain_text("두 모델을")


def test_a_sent_message_keeps_its_lines_and_stays_text(
    page: Page, live_daphne: str, personas: Personas, chat_model: Deployment
) -> None:
    sign_in(page, live_daphne, personas.member.email)
    start_chat(page)
    send(page, "첫 줄\n<b>둘째 줄</b>")
    bubble = page.locator("li.message.user .bubble").last
    expect(bubble).to_contain_text("<b>둘째 줄</b>")  # shown as text, not markup
    assert bubble.locator("br").count() == 1 and bubble.locator("b").count() == 0
    expect(page.locator("li.message.assistant").last).to_have_attribute(
        "data-status", "complete", timeout=15_000
    )
    page.reload()  # the server shows it the same way
    bubble = page.locator("li.message.user .bubble").last
    expect(bubble).to_contain_text("<b>둘째 줄</b>")
    assert bubble.locator("br").count() == 1 and bubble.locator("b").count() == 0
