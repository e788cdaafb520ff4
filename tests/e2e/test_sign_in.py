"""A newcomer's first visit, in headless Debian chromium against daphne."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import pytest
from playwright.sync_api import BrowserContext, Page, WebSocket, expect

from orgs.models import User
from providers.models import Deployment

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct-horse-battery"


@pytest.fixture
def employee(user_factory: Callable[..., User]) -> User:
    return user_factory(email="kim@acme.test", password=PASSWORD, name="김민수")


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/")
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    page.click("[data-testid=local-login-submit]")


def test_sign_in_page_is_korean_and_switches_to_english(page: Page, live_daphne: str) -> None:
    page.goto(f"{live_daphne}/")
    expect(page).to_have_url(f"{live_daphne}/accounts/login/?next=/")
    expect(page.locator("h1")).to_have_text("로그인")
    # when the language is switched (the select submits itself)
    page.select_option("#language-select", "en")
    # then
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_wrong_password_shows_a_korean_error(page: Page, live_daphne: str, employee: User) -> None:
    sign_in(page, live_daphne, employee.email, "wrong-password")
    expect(page.locator(".alert.error")).to_contain_text(
        "이메일 또는 비밀번호가 올바르지 않습니다."
    )
    expect(page).to_have_url(f"{live_daphne}/accounts/login/")


def test_employee_signs_in_sees_models_and_gets_an_event_socket(
    page: Page, live_daphne: str, employee: User
) -> None:
    # given a configured model
    Deployment.objects.create(
        model_name="qwen3-8b",
        provider="hosted_vllm",
        upstream_model="Qwen/Qwen3-8B",
        api_base="http://vllm:8000/v1",
        description="사내 GPU의 Qwen",
    )
    frames: list[str] = []

    def on_socket(ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    # when
    sign_in(page, live_daphne, employee.email, PASSWORD)
    # then
    expect(page.get_by_test_id("current-user")).to_have_text("김민수")
    expect(page.get_by_test_id("model-list")).to_contain_text("qwen3-8b")
    expect(page.get_by_test_id("model-list")).to_contain_text("사내 GPU의 Qwen")
    for _ in range(100):  # the socket opens after the page loads
        if any('"hello"' in f for f in frames):
            break
        page.wait_for_timeout(50)
    assert any('"user": "kim@acme.test"' in f for f in frames)


def test_event_socket_checks_origin_and_session(
    page: Page, context: BrowserContext, live_daphne: str, employee: User
) -> None:
    sign_in(page, live_daphne, employee.email, PASSWORD)
    expect(page.get_by_test_id("current-user")).to_be_visible()
    session = next(c for c in context.cookies() if c["name"] == "sessionid")
    ws_url = live_daphne.replace("http://", "ws://") + "/ws/events/"

    async def attempt(origin: str, cookie: str | None) -> str:
        headers = {"Origin": origin}
        if cookie:
            headers["Cookie"] = f"sessionid={cookie}"
        async with aiohttp.ClientSession() as client:
            try:
                async with client.ws_connect(ws_url, headers=headers) as ws:
                    message = await ws.receive(timeout=5)
                    if message.type == aiohttp.WSMsgType.TEXT:
                        return str(message.json()["type"])
                    return f"closed:{ws.close_code}"
            except aiohttp.WSServerHandshakeError as exc:
                return f"refused:{exc.status}"

    def run(origin: str, cookie: str | None) -> str:
        # Playwright's loop owns this thread; the raw websocket client gets its own.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, attempt(origin, cookie)).result(timeout=30)

    assert run(live_daphne, session["value"]) == "hello"
    assert run("http://evil.example", session["value"]) == "refused:403"
    assert run(live_daphne, None) == "closed:4401"
