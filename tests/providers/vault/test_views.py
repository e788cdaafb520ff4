from __future__ import annotations

import logging

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from orgs.models import AuditEvent, Department, User
from providers.vault.models import ProviderCredential
from tests.personas import Personas
from tests.providers.vault.conftest import SECRET, CredentialFactory

EN = {"Accept-Language": "en"}
LIST = reverse("vault:list")


def department_url(department: Department) -> str:
    return reverse("vault:department", args=[department.pk])


def delete_url(credential: ProviderCredential) -> str:
    return reverse("vault:delete", args=[credential.pk])


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def active(**filters: object) -> bool:
    return ProviderCredential.objects.filter(revoked_at__isnull=True, **filters).exists()


# --- my keys ---------------------------------------------------------------------------------


def test_a_member_registers_a_key_and_sees_only_its_last_four(
    client: Client, personas: Personas, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    signed_in(client, personas.member)
    caplog.set_level(logging.DEBUG)
    # when
    page = client.get(LIST, headers=EN)
    created = client.post(
        LIST, {"provider": "openai", "label": "side project", "api_key": f" {SECRET} "}, headers=EN
    )
    listed = client.get(LIST, headers=EN)
    # then
    assert page.status_code == 200
    assert "are made with your key, and are still metered" in page.content.decode()
    assert created.status_code == 302
    html = listed.content.decode()
    assert "…abcd" in html
    assert "side project" in html
    assert "From now on it is shown only as …abcd" in html
    assert 'type="password"' in html and 'autocomplete="off"' in html
    credential = ProviderCredential.objects.get()
    assert credential.owner_user == personas.member and credential.created_by == personas.member
    for response in (page, created, listed):
        assert SECRET not in response.content.decode()
        assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert SECRET not in caplog.text
    assert all(SECRET not in str(record.args) for record in caplog.records)
    details = AuditEvent.objects.get(action="byok.create").details
    assert SECRET not in str(details)


def test_a_bad_submission_is_a_400_that_does_not_echo_any_secret(
    client: Client, personas: Personas
) -> None:
    signed_in(client, personas.member)
    response = client.post(
        LIST,
        {
            "provider": "bedrock",
            "aws_access_key_id": "lowercase-id",
            "aws_secret_access_key": "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY",
            "api_key": SECRET,  # another provider's field: ignored, never echoed
        },
        headers=EN,
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "capital letters and digits" in html
    assert "wJalrXUtnFEMI" not in html and SECRET not in html
    assert not ProviderCredential.objects.exists()


def test_a_provider_outside_the_list_is_refused(client: Client, personas: Personas) -> None:
    signed_in(client, personas.member)
    response = client.post(LIST, {"provider": "hosted_vllm", "api_key": SECRET}, headers=EN)
    assert response.status_code == 400
    assert not ProviderCredential.objects.exists()


def test_without_a_master_key_the_page_says_so_with_a_503(
    client: Client, personas: Personas, settings: Settings
) -> None:
    settings.VAULT_MASTER_KEY = ""
    signed_in(client, personas.member)
    response = client.post(LIST, {"provider": "openai", "api_key": SECRET}, headers=EN)
    assert response.status_code == 503
    assert "has no master key" in response.content.decode()
    assert SECRET not in response.content.decode()
    assert not ProviderCredential.objects.exists()


def test_a_second_key_for_the_same_provider_is_refused_clearly(
    client: Client, personas: Personas, credential_factory: CredentialFactory
) -> None:
    credential_factory(owner=personas.member)
    signed_in(client, personas.member)
    response = client.post(
        LIST, {"provider": "openai", "api_key": "sk-second-key-9999"}, headers=EN
    )
    assert response.status_code == 400
    assert "already a key for OpenAI" in response.content.decode()


def test_sign_in_is_required(client: Client, db: None) -> None:
    response = client.get(LIST)
    assert response.status_code == 302
    assert "login" in response["Location"]


# --- deleting --------------------------------------------------------------------------------


def test_a_member_deletes_their_own_key_after_confirming(
    client: Client, personas: Personas, credential_factory: CredentialFactory
) -> None:
    credential = credential_factory(owner=personas.member)
    signed_in(client, personas.member)
    confirm = client.get(delete_url(credential), headers=EN)
    assert confirm.status_code == 200
    assert "Delete your OpenAI key …abcd?" in confirm.content.decode()
    assert active(pk=credential.pk)  # a GET deletes nothing
    response = client.post(delete_url(credential), headers=EN)
    assert response.status_code == 302 and response["Location"] == LIST
    assert not active(pk=credential.pk)


def test_nobody_else_reaches_a_personal_key(
    client: Client, personas: Personas, credential_factory: CredentialFactory
) -> None:
    credential = credential_factory(owner=personas.member)
    for user in (personas.outsider, personas.dept_admin, personas.platform_admin):
        signed_in(client, user)
        assert client.get(delete_url(credential)).status_code == 404
        assert client.post(delete_url(credential)).status_code == 404
        assert "…abcd" not in client.get(LIST).content.decode()
    assert active(pk=credential.pk)


def test_an_unknown_key_id_is_a_404(client: Client, personas: Personas) -> None:
    signed_in(client, personas.member)
    url = reverse("vault:delete", args=["00000000-0000-0000-0000-000000000000"])
    assert client.post(url).status_code == 404


# --- department keys ---------------------------------------------------------------------------


def test_a_department_admin_manages_keys_of_their_subtree_only(
    client: Client, personas: Personas
) -> None:
    signed_in(client, personas.dept_admin)
    # the scopes offered: their own keys, ENG and ENG-PLAT, never HR
    page = client.get(LIST, headers=EN).content.decode()
    assert department_url(personas.eng) in page and department_url(personas.eng_plat) in page
    assert department_url(personas.hr) not in page
    # registering for ENG-PLAT
    response = client.post(
        department_url(personas.eng_plat),
        {"provider": "anthropic", "api_key": "sk-ant-team-key-5678"},
        headers=EN,
    )
    assert response.status_code == 302
    assert response["Location"] == department_url(personas.eng_plat)
    shown = client.get(department_url(personas.eng_plat), headers=EN).content.decode()
    assert "…5678" in shown and "sk-ant-team-key-5678" not in shown
    assert "and its sub-departments who have no key of their own" in shown
    assert active(owner_department=personas.eng_plat, provider="anthropic")
    # HR is not theirs
    assert client.get(department_url(personas.hr)).status_code == 404
    hr = client.post(department_url(personas.hr), {"provider": "openai", "api_key": SECRET})
    assert hr.status_code == 404
    assert not active(owner_department=personas.hr)


def test_a_department_admin_deletes_a_department_key(
    client: Client, personas: Personas, credential_factory: CredentialFactory
) -> None:
    credential = credential_factory(owner=personas.eng_plat, actor=personas.dept_admin)
    signed_in(client, personas.dept_admin)
    response = client.post(delete_url(credential))
    assert response.status_code == 302 and response["Location"] == department_url(personas.eng_plat)
    assert not active(pk=credential.pk)
    assert AuditEvent.objects.get(action="byok.delete").actor == personas.dept_admin


@pytest.mark.parametrize("who", ["member", "outsider", "finance"])
def test_people_who_do_not_administer_a_department_cannot_touch_its_keys(
    client: Client, personas: Personas, credential_factory: CredentialFactory, who: str
) -> None:
    credential = credential_factory(owner=personas.eng_plat, actor=personas.dept_admin)
    signed_in(client, getattr(personas, who))
    assert client.get(department_url(personas.eng_plat)).status_code == 404
    assert client.post(delete_url(credential)).status_code == 404
    assert department_url(personas.eng_plat) not in client.get(LIST).content.decode()
    assert active(pk=credential.pk)


def test_a_platform_admin_manages_any_departments_keys(
    client: Client, personas: Personas, credential_factory: CredentialFactory
) -> None:
    credential = credential_factory(owner=personas.hr, actor=personas.platform_admin)
    signed_in(client, personas.platform_admin)
    assert "…abcd" in client.get(department_url(personas.hr)).content.decode()
    assert client.post(delete_url(credential)).status_code == 302
    assert not active(pk=credential.pk)
