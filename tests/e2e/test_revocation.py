"""An admin's revocation reaches the user's open page at once, through its websocket."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, WebSocket, expect

from orgs.services import membership_set_primary, user_deactivate
from tests.personas import PERSONA_PASSWORD, Personas

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def signed_in_page(page: Page, base: str, email: str) -> list[str]:
    frames: list[str] = []

    def on_socket(ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PERSONA_PASSWORD)
    page.click("[data-testid=local-login-submit]")
    expect(page.get_by_test_id("current-user")).to_be_visible()
    for _ in range(100):
        if any('"hello"' in f for f in frames):
            break
        page.wait_for_timeout(50)
    assert any('"hello"' in f for f in frames)
    return frames


def test_deactivation_closes_the_open_page(
    page: Page, live_daphne: str, personas: Personas
) -> None:
    # given the member has the platform open
    frames = signed_in_page(page, live_daphne, personas.member.email)
    # when their admin deactivates them
    user_deactivate(user=personas.member, reason="admin", actor=personas.dept_admin)
    # then the page is told at once, reloads and lands on the sign-in page
    expect(page).to_have_url(f"{live_daphne}/accounts/login/?next=/", timeout=10_000)
    assert any("session.revoked" in f for f in frames)


def test_role_change_is_pushed_to_the_open_page(
    page: Page, live_daphne: str, personas: Personas
) -> None:
    frames = signed_in_page(page, live_daphne, personas.member.email)
    membership_set_primary(
        user=personas.member,
        department=personas.eng_plat,
        roles=["member", "dept_admin"],
        actor=personas.dept_admin,
    )
    for _ in range(100):
        if any("permissions.changed" in f for f in frames):
            break
        page.wait_for_timeout(50)
    assert any("permissions.changed" in f for f in frames)
