"""Registering a key in the browser: the provider select shows only that provider's
inputs, and after saving the page shows the last four characters, never the key."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from providers.vault.models import ProviderCredential
from tests.personas import PERSONA_PASSWORD, Personas

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SECRET_ACCESS_KEY = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzzSECRET"


def test_a_bedrock_key_is_registered_and_never_shown_again(
    page: Page, live_daphne: str, personas: Personas
) -> None:
    # given
    page.goto(f"{live_daphne}/accounts/login/")
    page.fill("#id_login", personas.member.email)
    page.fill("#id_password", PERSONA_PASSWORD)
    page.click("[data-testid=local-login-submit]")
    page.get_by_test_id("keys-link").click()
    form = page.get_by_test_id("vault-form")
    # when: choosing Bedrock
    form.locator("select[name=provider]").select_option("bedrock")
    # then: only the AWS inputs show
    expect(form.locator("input[name=api_key]")).to_be_hidden()
    expect(form.locator("input[name=vertex_credentials]")).to_be_hidden()
    expect(form.locator("input[name=aws_secret_access_key]")).to_be_visible()
    expect(form.locator("input[name=aws_secret_access_key]")).to_have_attribute("type", "password")
    # when: saving
    form.locator("input[name=aws_access_key_id]").fill("AKIAIOSFODNN7EXAMPLE")
    form.locator("input[name=aws_secret_access_key]").fill(SECRET_ACCESS_KEY)
    form.locator("button[type=submit]").click()
    # then
    expect(page.get_by_test_id("vault-row")).to_have_count(1)
    expect(page.get_by_test_id("vault-row")).to_contain_text("…MPLE")
    assert SECRET_ACCESS_KEY not in page.content()
    assert form.locator("input[name=aws_secret_access_key]").input_value() == ""
    credential = ProviderCredential.objects.get()
    assert (credential.owner_user_id, credential.provider) == (personas.member.pk, "bedrock")
