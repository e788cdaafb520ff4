from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from pytest_django import DjangoAssertNumQueries

from orgs.models import Department, Role, User
from orgs.services import membership_set_primary
from providers.vault.errors import CredentialTampered
from providers.vault.lookup import OpenedCredential, abyok_credentials, byok_credentials
from providers.vault.models import ProviderCredential
from providers.vault.services import credential_delete
from tests.personas import Personas
from tests.providers.vault.conftest import SECRET, CredentialFactory


def lookup(
    user: User | None, department_id: int | None, provider: str = "openai"
) -> OpenedCredential | None:
    return async_to_sync(abyok_credentials)(
        user_id=user.pk if user is not None else None,
        department_id=department_id,
        provider=provider,
    )


@pytest.fixture
def keys(
    personas: Personas, credential_factory: CredentialFactory
) -> dict[str, ProviderCredential]:
    """A key for the member, for ENG-PLAT and for its parent ENG (all OpenAI)."""
    return {
        "member": credential_factory(
            owner=personas.member, secrets={"api_key": "sk-member-own-1111"}
        ),
        "eng_plat": credential_factory(
            owner=personas.eng_plat,
            actor=personas.dept_admin,
            secrets={"api_key": "sk-eng-plat-2222"},
        ),
        "eng": credential_factory(
            owner=personas.eng, actor=personas.dept_admin, secrets={"api_key": "sk-eng-shared-3333"}
        ),
    }


def test_the_callers_own_key_comes_first_then_the_nearest_department(
    personas: Personas,
    keys: dict[str, ProviderCredential],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # the member's own key
    opened = lookup(personas.member, personas.eng_plat.pk)
    assert opened is not None
    assert (opened.credential_id, opened.owner_kind) == (keys["member"].pk, "user")
    assert opened.secrets == {"api_key": "sk-member-own-1111"}
    assert opened.last4 == "1111"
    # without it: their department's
    with django_capture_on_commit_callbacks(execute=True):
        credential_delete(credential=keys["member"], actor=personas.member)
    opened = lookup(personas.member, personas.eng_plat.pk)
    assert opened is not None
    assert (opened.credential_id, opened.owner_kind) == (keys["eng_plat"].pk, "department")
    # without that: the parent department's
    with django_capture_on_commit_callbacks(execute=True):
        credential_delete(credential=keys["eng_plat"], actor=personas.dept_admin)
    opened = lookup(personas.member, personas.eng_plat.pk)
    assert opened is not None
    assert opened.credential_id == keys["eng"].pk
    assert opened.secrets == {"api_key": "sk-eng-shared-3333"}


def test_department_keys_reach_only_their_subtree(
    personas: Personas, keys: dict[str, ProviderCredential]
) -> None:
    # ENG's admin sits in ENG: ENG's key, not ENG-PLAT's
    opened = lookup(personas.dept_admin, personas.eng.pk)
    assert opened is not None and opened.credential_id == keys["eng"].pk
    # HR and FIN have none; another provider has none
    assert lookup(personas.outsider, personas.hr.pk) is None
    assert lookup(personas.finance, personas.fin.pk) is None
    assert lookup(personas.member, personas.eng_plat.pk, "anthropic") is None
    # a self-hosted engine never takes a customer key
    assert lookup(personas.member, personas.eng_plat.pk, "hosted_vllm") is None


def test_a_key_of_an_inactive_department_is_not_used(
    personas: Personas, keys: dict[str, ProviderCredential]
) -> None:
    Department.objects.filter(pk=personas.eng.pk).update(is_active=False)
    assert lookup(personas.dept_admin, personas.eng.pk) is None
    opened = lookup(None, personas.eng_plat.pk)
    assert opened is not None and opened.credential_id == keys["eng_plat"].pk


def test_a_caller_without_a_key_costs_no_query_once_the_index_is_loaded(
    personas: Personas,
    keys: dict[str, ProviderCredential],
    django_assert_num_queries: DjangoAssertNumQueries,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("providers.vault.index.TTL_SECONDS", 3600.0)
    assert lookup(personas.outsider, personas.hr.pk) is None  # loads the index
    with django_assert_num_queries(0):
        assert lookup(personas.outsider, personas.hr.pk) is None
        assert lookup(personas.member, personas.eng_plat.pk, "gemini") is None


def test_the_index_is_invalidated_by_create_and_delete(
    personas: Personas,
    credential_factory: CredentialFactory,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: a loaded index that would otherwise stay for an hour
    monkeypatch.setattr("providers.vault.index.TTL_SECONDS", 3600.0)
    assert lookup(personas.outsider, personas.hr.pk) is None
    # when a key is registered (its commit invalidates the index)
    with django_capture_on_commit_callbacks(execute=True):
        credential = credential_factory(owner=personas.outsider)
    # then it is used at once
    opened = lookup(personas.outsider, personas.hr.pk)
    assert opened is not None and opened.secrets == {"api_key": SECRET}
    # and after its deletion it is not
    with django_capture_on_commit_callbacks(execute=True):
        credential_delete(credential=credential, actor=personas.outsider)
    assert lookup(personas.outsider, personas.hr.pk) is None


def test_a_key_deleted_by_another_process_is_passed_over(
    personas: Personas,
    keys: dict[str, ProviderCredential],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("providers.vault.index.TTL_SECONDS", 3600.0)
    assert lookup(personas.member, personas.eng_plat.pk) is not None
    # deleted without this process's index hearing of it
    ProviderCredential.objects.filter(pk=keys["member"].pk).update(revoked_at="2026-01-01T00:00Z")
    opened = lookup(personas.member, personas.eng_plat.pk)
    assert opened is not None and opened.credential_id == keys["eng_plat"].pk


def test_last_used_is_recorded_at_most_once_a_minute(
    personas: Personas,
    keys: dict[str, ProviderCredential],
    django_assert_num_queries: DjangoAssertNumQueries,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("providers.vault.index.TTL_SECONDS", 3600.0)
    monkeypatch.setattr("providers.vault.index.TOUCH_INTERVAL_SECONDS", 3600.0)
    before = ProviderCredential.objects.get(pk=keys["member"].pk)
    assert before.last_used_at is None
    lookup(personas.member, personas.eng_plat.pk)
    after = ProviderCredential.objects.get(pk=keys["member"].pk)
    assert after.last_used_at is not None
    assert bytes(after.ciphertext) == bytes(before.ciphertext)
    assert bytes(after.wrapped_key) == bytes(before.wrapped_key)
    # the second use within the interval writes nothing: one read of the row, no update
    with django_assert_num_queries(1) as captured:
        lookup(personas.member, personas.eng_plat.pk)
    assert captured.captured_queries[0]["sql"].startswith("SELECT")


def test_a_tampered_key_fails_the_call_rather_than_falling_back(
    personas: Personas, keys: dict[str, ProviderCredential]
) -> None:
    ProviderCredential.objects.filter(pk=keys["member"].pk).update(owner_user=personas.outsider)
    with pytest.raises(CredentialTampered):
        lookup(personas.outsider, personas.hr.pk)


def test_the_opened_secret_stays_out_of_repr(
    personas: Personas, keys: dict[str, ProviderCredential]
) -> None:
    opened = lookup(personas.member, personas.eng_plat.pk)
    assert opened is not None
    assert "sk-member-own-1111" not in repr(opened)
    assert "1111" in repr(opened)


def test_the_blocking_variant_answers_the_same(
    personas: Personas, keys: dict[str, ProviderCredential]
) -> None:
    opened = byok_credentials(
        user_id=personas.member.pk, department_id=personas.eng_plat.pk, provider="openai"
    )
    assert opened is not None and opened.credential_id == keys["member"].pk
    assert (
        byok_credentials(user_id=personas.outsider.pk, department_id=None, provider="openai")
        is None
    )


def test_a_member_moved_to_another_department_gets_that_departments_key(
    personas: Personas, keys: dict[str, ProviderCredential], user_factory: Callable[..., User]
) -> None:
    newcomer = user_factory()
    membership_set_primary(user=newcomer, department=personas.eng_plat, roles=[Role.MEMBER])
    opened = lookup(newcomer, personas.eng_plat.pk)
    assert opened is not None and opened.credential_id == keys["eng_plat"].pk
