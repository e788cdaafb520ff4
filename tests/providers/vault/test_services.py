from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from orgs.models import AuditEvent
from providers.vault.errors import (
    CredentialInvalid,
    CredentialTampered,
    UnknownMasterKey,
    VaultError,
)
from providers.vault.models import ProviderCredential
from providers.vault.services import credential_delete, credential_open, credential_touch
from tests.personas import Personas
from tests.providers.vault.conftest import SECRET, CredentialFactory, new_master_key

SERVICE_ACCOUNT = json.dumps(
    {
        "type": "service_account",
        "project_id": "acme-ai",
        "private_key_id": "0123456789abcdef0123456789abcdef7f3e",
        "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE-test\n-----END PRIVATE KEY-----\n",
        "client_email": "byok@acme-ai.iam.gserviceaccount.com",
    },
    indent=2,
)


def reload(credential: ProviderCredential) -> ProviderCredential:
    return ProviderCredential.objects.get(pk=credential.pk)


def flipped(blob: Any, index: int = 0) -> bytes:
    data = bytearray(bytes(blob))
    data[index] ^= 0x01
    return bytes(data)


# --- round trip -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "secrets", "last4"),
    [
        ("openai", {"api_key": f"  {SECRET}\n"}, "abcd"),
        ("anthropic", {"api_key": "sk-ant-api03-xyz-9876"}, "9876"),
        (
            "bedrock",
            {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "wJalr/K7MDENG"},
            "MPLE",
        ),
        ("vertex_ai", {"vertex_credentials": SERVICE_ACCOUNT}, "7f3e"),
    ],
)
def test_a_key_round_trips_and_is_stored_only_encrypted(
    personas: Personas,
    credential_factory: CredentialFactory,
    provider: str,
    secrets: dict[str, str],
    last4: str,
) -> None:
    # when
    credential = reload(
        credential_factory(owner=personas.member, provider=provider, secrets=secrets)
    )
    # then
    assert credential_open(credential) == {k: v.strip() for k, v in secrets.items()}
    assert credential.last4 == last4
    assert len(bytes(credential.nonce)) == 12
    for value in secrets.values():
        assert value.strip().encode() not in bytes(credential.ciphertext)
        assert value.strip().encode() not in bytes(credential.wrapped_key)


def test_each_secret_has_its_own_data_key(
    personas: Personas, credential_factory: CredentialFactory
) -> None:
    a = credential_factory(owner=personas.member)
    b = credential_factory(owner=personas.outsider)
    assert bytes(a.wrapped_key) != bytes(b.wrapped_key)
    assert bytes(a.ciphertext) != bytes(b.ciphertext)


def test_an_optional_session_token_is_kept_and_empty_ones_dropped(
    personas: Personas, credential_factory: CredentialFactory
) -> None:
    base = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "secret-key-1"}
    with_token = credential_factory(
        owner=personas.member,
        provider="bedrock",
        secrets={**base, "aws_session_token": "tok-12345"},
    )
    without = credential_factory(
        owner=personas.outsider, provider="bedrock", secrets={**base, "aws_session_token": "  "}
    )
    assert credential_open(with_token)["aws_session_token"] == "tok-12345"
    assert "aws_session_token" not in credential_open(without)


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "secrets", "field", "says"),
    [
        ("openai", {}, "api_key", "API key is required"),
        ("openai", {"api_key": "short"}, "api_key", "at least 8 characters"),
        ("openai", {"api_key": "has a space inside"}, "api_key", "no spaces"),
        ("openai", {"api_key": "x" * 513}, "api_key", "too long"),
        (
            "openai",
            {"api_key": SECRET, "aws_secret_access_key": "x"},
            "aws_secret_access_key",
            "no parameter",
        ),
        (
            "bedrock",
            {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE"},
            "aws_secret_access_key",
            "AWS secret access key is required",
        ),
        (
            "bedrock",
            {"aws_access_key_id": "akia-lower", "aws_secret_access_key": "s"},
            "aws_access_key_id",
            "capital letters and digits",
        ),
        ("vertex_ai", {"vertex_credentials": "/etc/passwd"}, "vertex_credentials", "JSON"),
        (
            "vertex_ai",
            {"vertex_credentials": '{"type": "service_account"}'},
            "vertex_credentials",
            "not a service account key",
        ),
        ("hosted_vllm", {"api_key": SECRET}, "provider", "cannot be registered"),
    ],
)
def test_bad_secrets_are_refused_naming_the_field(
    personas: Personas,
    credential_factory: CredentialFactory,
    provider: str,
    secrets: dict[str, str],
    field: str,
    says: str,
) -> None:
    with pytest.raises(CredentialInvalid, match=says) as caught:
        credential_factory(owner=personas.member, provider=provider, secrets=secrets)
    assert caught.value.field == field
    assert caught.value.status == 400
    for value in secrets.values():
        assert len(value) < 8 or value not in caught.value.message
    assert not ProviderCredential.objects.exists()


def test_one_active_key_per_owner_and_provider(
    personas: Personas, credential_factory: CredentialFactory
) -> None:
    first = credential_factory(owner=personas.member)
    with pytest.raises(CredentialInvalid, match="already a key for OpenAI"):
        credential_factory(owner=personas.member)
    credential_factory(owner=personas.member, provider="anthropic")
    credential_delete(credential=first, actor=personas.member)
    credential_factory(owner=personas.member)  # allowed again after the delete
    assert ProviderCredential.objects.filter(revoked_at__isnull=True).count() == 2


# --- tamper, swap, edits -------------------------------------------------------------------


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "wrapped_key"])
@pytest.mark.parametrize("position", [0, -1])
def test_a_flipped_byte_in_any_sealed_field_fails_clearly(
    personas: Personas, credential_factory: CredentialFactory, field: str, position: int
) -> None:
    # given
    credential = credential_factory(owner=personas.member)
    blob = bytes(getattr(credential, field))
    # when
    ProviderCredential.objects.filter(pk=credential.pk).update(
        **{field: flipped(blob, position % len(blob))}
    )
    # then
    with pytest.raises(CredentialTampered, match="integrity check"):
        credential_open(reload(credential))


def test_sealed_fields_copied_onto_another_row_do_not_open(
    personas: Personas, credential_factory: CredentialFactory
) -> None:
    # given: two keys of the same provider
    a = credential_factory(owner=personas.member)
    b = credential_factory(owner=personas.outsider, secrets={"api_key": "sk-outsider-key-0000"})
    # when: A's sealed fields are written onto B
    ProviderCredential.objects.filter(pk=b.pk).update(
        ciphertext=a.ciphertext,
        nonce=a.nonce,
        wrapped_key=a.wrapped_key,
        master_key_id=a.master_key_id,
    )
    # then
    with pytest.raises(CredentialTampered):
        credential_open(reload(b))
    assert credential_open(reload(a)) == {"api_key": SECRET}


def test_only_the_secret_copied_with_the_other_rows_data_key_does_not_open(
    personas: Personas, credential_factory: CredentialFactory
) -> None:
    a = credential_factory(owner=personas.member)
    b = credential_factory(owner=personas.outsider, secrets={"api_key": "sk-outsider-key-0000"})
    ProviderCredential.objects.filter(pk=b.pk).update(ciphertext=a.ciphertext, nonce=a.nonce)
    with pytest.raises(CredentialTampered):
        credential_open(reload(b))


@pytest.mark.parametrize(
    "change",
    ["owner_user", "owner_kind", "provider", "format_version"],
)
def test_editing_owner_or_provider_in_the_database_breaks_the_seal(
    personas: Personas, credential_factory: CredentialFactory, change: str
) -> None:
    # given
    credential = credential_factory(owner=personas.member)
    rows = ProviderCredential.objects.filter(pk=credential.pk)
    # when
    if change == "owner_user":
        rows.update(owner_user=personas.outsider)
    elif change == "owner_kind":
        rows.update(owner_user=None, owner_department=personas.eng_plat)
    elif change == "provider":
        rows.update(provider="azure")
    else:
        rows.update(format_version=2)
    # then
    with pytest.raises(VaultError):
        credential_open(reload(credential))


def test_a_wrong_master_key_is_a_clear_error(
    settings: Settings, personas: Personas, credential_factory: CredentialFactory
) -> None:
    # given
    credential = credential_factory(owner=personas.member)
    # when: the server starts with another master key
    settings.VAULT_MASTER_KEY = new_master_key()
    # then
    with pytest.raises(UnknownMasterKey, match=credential.master_key_id) as caught:
        credential_open(reload(credential))
    assert "VAULT_PREVIOUS_MASTER_KEYS" in caught.value.message
    assert caught.value.status == 503


def test_a_wrong_master_key_under_a_forged_key_id_fails_authentication(
    settings: Settings, personas: Personas, credential_factory: CredentialFactory
) -> None:
    from providers.vault.master import get_master_key

    credential = credential_factory(owner=personas.member)
    settings.VAULT_MASTER_KEY = new_master_key()
    ProviderCredential.objects.filter(pk=credential.pk).update(
        master_key_id=get_master_key().key_id
    )
    with pytest.raises(CredentialTampered):
        credential_open(reload(credential))


def test_recording_a_use_does_not_touch_the_sealed_fields(
    personas: Personas, credential_factory: CredentialFactory
) -> None:
    credential = reload(credential_factory(owner=personas.member))
    credential_touch(credential_id=credential.pk)
    after = reload(credential)
    assert after.last_used_at is not None
    for field in ("ciphertext", "nonce", "wrapped_key"):
        assert bytes(getattr(after, field)) == bytes(getattr(credential, field))
    assert after.master_key_id == credential.master_key_id
    assert credential_open(after) == {"api_key": SECRET}


# --- delete and audit ------------------------------------------------------------------------


def test_create_and_delete_are_audited_without_the_secret(
    personas: Personas, credential_factory: CredentialFactory
) -> None:
    # given
    credential = credential_factory(owner=personas.eng, actor=personas.dept_admin, label="팀 공용")
    # when
    credential_delete(credential=credential, actor=personas.dept_admin)
    credential_delete(credential=credential, actor=personas.dept_admin)  # a no-op
    # then
    events = list(AuditEvent.objects.filter(action__startswith="byok.").order_by("seq"))
    assert [e.action for e in events] == ["byok.create", "byok.delete"]
    for event in events:
        assert event.actor == personas.dept_admin
        assert event.department == personas.eng
        assert event.target_id == str(credential.pk)
        assert event.details["provider"] == "openai"
        assert event.details["label"] == "팀 공용"
        assert event.details["last4"] == "abcd"
        assert event.details["owner"] == {"kind": "department", "id": personas.eng.pk}
        assert SECRET not in json.dumps(event.details, ensure_ascii=False)
        assert SECRET not in event.target_repr


def test_a_deleted_key_is_erased_and_cannot_be_opened(
    personas: Personas, credential_factory: CredentialFactory
) -> None:
    credential = credential_factory(owner=personas.member)
    credential_delete(credential=credential, actor=personas.member)
    row = reload(credential)
    assert row.revoked_at is not None
    assert bytes(row.ciphertext) == bytes(row.wrapped_key) == bytes(row.nonce) == b""
    with pytest.raises(VaultError, match="deleted"):
        credential_open(row)
