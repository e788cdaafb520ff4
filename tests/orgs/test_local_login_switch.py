"""Local password sign-in can be switched off; then only the company IdP signs people in."""

from __future__ import annotations

from django.test import Client, override_settings

from tests.personas import PERSONA_PASSWORD, Personas


def test_local_sign_in_works_when_enabled(client: Client, personas: Personas) -> None:
    response = client.post(
        "/accounts/login/", {"login": personas.member.email, "password": PERSONA_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


@override_settings(SOCIALACCOUNT_ONLY=True)
def test_local_sign_in_is_refused_when_switched_off(client: Client, personas: Personas) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert 'data-testid="local-login"' not in page
    client.post("/accounts/login/", {"login": personas.member.email, "password": PERSONA_PASSWORD})
    assert client.get("/").status_code == 302


def test_admin_login_goes_through_the_same_page(client: Client) -> None:
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
