"""The chat on a phone: a 390 by 844 CSS px touch screen, headless chromium, fake upstream."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from playwright.sync_api import FloatRect, Locator, Page, expect

from providers.models import Deployment
from tests.e2e.test_chat import sign_in, start_chat
from tests.fake_upstream import FakeUpstream, Fault
from tests.personas import Personas

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
MIN_TAP = 40  # CSS px, each side of a touch target

# The fake upstream echoes the prompt, so the answer holds what the prompt holds: a
# code line far wider than a phone (one unbroken token), a wide table and an HTML block.
LONG_TOKEN = "0123456789abcdef" * 12
WIDE_TABLE = "\n".join(
    [
        "| " + " | ".join(f"column_heading_{i}" for i in range(8)) + " |",
        "|" + "---|" * 8,
        *("| " + " | ".join(f"ENG-PLAT-{r}{i}-2026" for i in range(8)) + " |" for r in range(4)),
    ]
)
PROMPT = (
    "휴대폰에서 보기\n\n"
    f'```python\nAPI_KEY_FINGERPRINT = "{LONG_TOKEN}"\nprint(API_KEY_FINGERPRINT)\n```\n\n'
    f"{WIDE_TABLE}\n\n"
    '```html\n<p id="out">phone</p>\n```\n'
)


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "viewport": PHONE,
        "screen": PHONE,
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 3,
    }


@pytest.fixture
def chat_model(deployment_factory: Callable[..., Deployment]) -> Deployment:
    return deployment_factory("chat-model", description="사내 모델")


def open_new_chat(page: Page) -> None:
    """A new conversation, with its deferred scripts run (so that a tap on Send is not a
    plain form submission)."""
    start_chat(page)
    page.wait_for_load_state("domcontentloaded")


def page_width(page: Page) -> dict[str, int]:
    """How wide the document is, and how far it lets itself be scrolled sideways."""
    width = page.evaluate(
        """() => {
            const root = document.scrollingElement;
            window.scrollTo(10000, window.scrollY);
            const scrolledX = window.scrollX;
            window.scrollTo(0, window.scrollY);
            return {scroll: root.scrollWidth, inner: window.innerWidth, scrolledX: scrolledX};
        }"""
    )
    return cast(dict[str, int], width)


def assert_no_sideways_scroll(page: Page) -> None:
    width = page_width(page)
    assert width["inner"] == PHONE["width"], width
    assert width["scroll"] <= width["inner"], width
    assert width["scrolledX"] == 0, width


def box_of(locator: Locator) -> FloatRect:
    box = locator.bounding_box()
    assert box is not None, f"{locator} has no box"
    return box


def assert_inside_viewport(locator: Locator) -> None:
    box = box_of(locator)
    assert box["x"] >= 0, box
    assert box["y"] >= 0, box
    assert box["x"] + box["width"] <= PHONE["width"] + 0.5, box
    assert box["y"] + box["height"] <= PHONE["height"] + 0.5, box


def assert_tappable(locator: Locator) -> None:
    box = box_of(locator)
    assert box["width"] >= MIN_TAP - 0.5, (locator, box)
    assert box["height"] >= MIN_TAP - 0.5, (locator, box)
    assert box["x"] >= 0, (locator, box)
    assert box["x"] + box["width"] <= PHONE["width"] + 0.5, (locator, box)


def scrolls_inside(locator: Locator) -> dict[str, float]:
    sizes = locator.evaluate(
        """(el) => ({scroll: el.scrollWidth, client: el.clientWidth,
                    left: el.getBoundingClientRect().left,
                    right: el.getBoundingClientRect().right})"""
    )
    return cast(dict[str, float], sizes)


def test_a_conversation_fits_a_phone_and_works_by_touch(
    page: Page,
    live_daphne: str,
    personas: Personas,
    chat_model: Deployment,
    fake_upstream: FakeUpstream,
) -> None:
    # given an employee on a phone who starts a conversation
    sign_in(page, live_daphne, personas.member.email)
    assert_no_sideways_scroll(page)
    open_new_chat(page)
    composer = page.get_by_test_id("composer-text")
    send_button = page.get_by_test_id("send")
    # when they type a line and press the keyboard's Enter: a line break, nothing sent
    composer.fill("첫 줄")
    composer.press("Enter")
    expect(composer).to_have_value("첫 줄\n")
    expect(page.locator("li.message")).to_have_count(0)
    assert "Enter" not in (composer.get_attribute("placeholder") or "")
    # when they ask for something whose answer holds a long code line and a wide table
    composer.fill(PROMPT)
    send_button.tap()
    answer = page.locator("li.message.assistant").last
    expect(answer).to_have_attribute("data-status", "complete", timeout=15_000)

    # then the page never scrolls sideways; the code and the table scroll in their own box
    assert_no_sideways_scroll(page)
    code = answer.locator(".md-code pre").first
    expect(code).to_contain_text(LONG_TOKEN)
    code_box = scrolls_inside(code)
    assert code_box["scroll"] > code_box["client"], code_box
    assert code_box["left"] >= 0 and code_box["right"] <= PHONE["width"], code_box
    table = answer.locator(".md-table").first
    expect(table.locator("th")).to_have_count(8)
    table_box = scrolls_inside(table)
    assert table_box["scroll"] > table_box["client"], table_box
    assert table_box["left"] >= 0 and table_box["right"] <= PHONE["width"], table_box
    # the messages get (nearly) the whole width: the conversation list is not beside them
    assert box_of(page.get_by_test_id("messages"))["width"] >= PHONE["width"] - 40

    # and the composer stays at the bottom of the screen, even scrolled to the top
    assert page.evaluate("document.scrollingElement.scrollHeight > window.innerHeight + 200")
    page.evaluate("window.scrollTo(0, 0)")
    assert page.evaluate("window.scrollY") == 0
    assert_inside_viewport(send_button)
    assert_inside_viewport(composer)
    assert_tappable(send_button)
    # (the model picker sits at the top of the conversation, finger-sized too)
    assert_tappable(page.get_by_test_id("model-name"))

    # and the textarea grows with its text, up to a limit, and shrinks again
    composer.fill("한 줄")
    small = box_of(composer)["height"]
    composer.fill("\n".join(f"{i}번째 줄" for i in range(40)))
    grown = box_of(composer)["height"]
    assert grown > small + 40, (small, grown)
    assert grown <= PHONE["height"] * 0.5, grown
    assert composer.evaluate("el => el.scrollHeight > el.clientHeight")
    assert_inside_viewport(send_button)
    assert_no_sideways_scroll(page)
    composer.fill("")
    assert box_of(composer)["height"] <= small + 1, (small, box_of(composer))

    # and the artifact panel takes the whole width, and closes by touch
    answer.get_by_test_id("open-artifact").tap()
    panel = page.get_by_test_id("artifact-panel")
    expect(panel).to_be_visible()
    panel_box = box_of(panel)
    assert panel_box["x"] <= 0.5 and panel_box["width"] >= PHONE["width"] - 0.5, panel_box
    expect(page.frame_locator("#artifact-frame").locator("#out")).to_have_text("phone")
    close_artifact = panel.locator("#artifact-close")
    assert_tappable(close_artifact)
    close_artifact.tap()
    expect(panel).to_be_hidden()

    # and an answer that streams in is followed above the composer, not under it
    fake_upstream.inject(Fault(chunk_delay=0.05))
    words = " ".join(f"단어{i}" for i in range(80))
    composer.fill(words)
    send_button.tap()
    streaming = page.locator('li.message.assistant[data-status="streaming"]')
    expect(streaming).to_have_count(1, timeout=10_000)
    expect(streaming.locator(".bubble")).to_contain_text("단어30", timeout=10_000)
    stop = page.get_by_test_id("stop")
    expect(stop).to_be_visible()
    assert_tappable(stop)
    assert_inside_viewport(stop)
    gap = page.evaluate(
        """() => document.getElementById("composer").getBoundingClientRect().top
                 - document.querySelector("#messages > li:last-child")
                     .getBoundingClientRect().bottom"""
    )
    assert gap >= 0, gap
    expect(page.locator("li.message.assistant").last).to_have_attribute(
        "data-status", "complete", timeout=20_000
    )
    assert_no_sideways_scroll(page)


def test_the_conversation_list_is_a_drawer_on_a_phone(
    page: Page,
    live_daphne: str,
    personas: Personas,
    chat_model: Deployment,
    fake_upstream: FakeUpstream,
) -> None:
    sign_in(page, live_daphne, personas.member.email)
    open_new_chat(page)
    page.get_by_test_id("composer-text").fill("서랍 확인")
    page.get_by_test_id("send").tap()
    expect(page.locator("li.message.assistant").last).to_have_attribute(
        "data-status", "complete", timeout=15_000
    )
    sidebar = page.get_by_test_id("sidebar")
    toggle = page.get_by_test_id("sidebar-toggle")
    messages = page.get_by_test_id("messages")
    full_width = box_of(messages)["width"]
    # the list is hidden at first, behind a visible menu button
    expect(toggle).to_be_visible()
    assert_tappable(toggle)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_attribute("aria-controls", "chat-sidebar")
    expect(sidebar).to_be_hidden()
    assert full_width >= PHONE["width"] - 40

    # the button opens it over the conversation, which keeps its width
    toggle.tap()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(sidebar).to_be_visible()
    expect(sidebar).to_be_in_viewport(ratio=1)
    expect(sidebar.get_by_test_id("conversation-list")).to_contain_text("서랍 확인")
    expect(sidebar.get_by_test_id("new-chat")).to_be_in_viewport()
    assert box_of(messages)["width"] == full_width
    assert_no_sideways_scroll(page)
    # its own close button closes it and gives the focus back to the menu button
    close = page.get_by_test_id("sidebar-close")
    assert_tappable(close)
    close.tap()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(sidebar).to_be_hidden()
    expect(toggle).to_be_focused()

    # so does Escape
    toggle.tap()
    expect(sidebar).to_be_visible()
    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(sidebar).to_be_hidden()

    # and so does a tap beside it
    toggle.tap()
    expect(sidebar).to_be_in_viewport(ratio=1)
    sidebar_right = box_of(sidebar)["x"] + box_of(sidebar)["width"]
    assert sidebar_right < PHONE["width"] - 30, sidebar_right
    page.touchscreen.tap(PHONE["width"] - 15, PHONE["height"] // 2)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(sidebar).to_be_hidden()
    assert_no_sideways_scroll(page)

    # a link in the drawer works by touch
    toggle.tap()
    sidebar.get_by_test_id("archive-link").tap()
    expect(page).to_have_url(f"{live_daphne}/chat/archive/")
    expect(sidebar).to_be_hidden()


def test_message_actions_are_touch_sized_and_work(
    page: Page,
    live_daphne: str,
    personas: Personas,
    chat_model: Deployment,
    fake_upstream: FakeUpstream,
) -> None:
    sign_in(page, live_daphne, personas.member.email)
    open_new_chat(page)
    page.get_by_test_id("composer-text").fill("두 가지 버전")
    page.get_by_test_id("send").tap()
    answers = page.locator("li.message.assistant")
    expect(answers.last).to_have_attribute("data-status", "complete", timeout=15_000)
    # regenerating by touch makes a second version
    answers.last.locator('[data-action="regenerate"]').tap()
    expect(answers).to_have_count(2, timeout=15_000)
    expect(answers.last).to_have_attribute("data-status", "complete", timeout=15_000)
    page.reload()
    nav = page.locator("li.message.assistant").get_by_test_id("sibling-nav")
    expect(nav).to_contain_text("2 / 2")
    # every action under a message is a finger-sized target inside the screen
    buttons = page.locator("li.message .meta button, li.message .sibling-nav button")
    names = [b.inner_text() or b.get_attribute("aria-label") for b in buttons.all()]
    assert len(names) >= 7, names  # edit, copy, delete; regenerate, copy, delete; previous
    for button in buttons.all():
        assert_tappable(button)
    for code_copy in page.locator("li.message button[data-copy]").all():
        assert_tappable(code_copy)
    assert_no_sideways_scroll(page)
    # and they work by touch: back to the first version
    nav.get_by_role("button").first.tap()
    expect(page.locator("li.message.assistant").get_by_test_id("sibling-nav")).to_contain_text(
        "1 / 2"
    )
    next_version = page.locator("li.message.assistant").get_by_test_id("sibling-nav")
    expect(next_version.get_by_role("button")).to_have_count(1)
    assert_tappable(next_version.get_by_role("button"))
    assert_no_sideways_scroll(page)


def test_every_chat_page_fits_a_phone_even_with_the_longest_menu(
    page: Page,
    live_daphne: str,
    personas: Personas,
    chat_model: Deployment,
) -> None:
    from chatapp.templates_prompts import prompt_template_create

    personas.platform_admin.is_staff = True
    personas.platform_admin.save(update_fields=["is_staff"])
    prompt_template_create(
        owner=personas.platform_admin,
        title="긴 템플릿",
        body="다음 열을 요약해 줘: " + ", ".join(f"column_{i}" for i in range(60)),
        scope="private",
    )
    sign_in(page, live_daphne, personas.platform_admin.email)
    topbar = page.locator("header.topbar")
    for path in ("/", "/chat/archive/", "/chat/bin/", "/chat/templates/", "/chat/compare/"):
        page.goto(f"{live_daphne}{path}")
        assert_no_sideways_scroll(page)
        assert topbar.evaluate("el => el.scrollWidth <= el.clientWidth"), path
        expect(page.get_by_test_id("sidebar-toggle")).to_be_visible()
        expect(page.get_by_test_id("sidebar")).to_be_hidden()
