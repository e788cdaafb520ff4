from __future__ import annotations

from uuid import UUID

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from orgs.models import AuditEvent
from providers.vault.master import get_master_key
from providers.vault.models import ProviderCredential
from providers.vault.services import credential_delete, credential_open
from tests.personas import Personas
from tests.providers.vault.conftest import SECRET, CredentialFactory, new_master_key


def sealed_state(pk: UUID) -> tuple[bytes, bytes, bytes, str]:
    row = ProviderCredential.objects.get(pk=pk)
    return bytes(row.ciphertext), bytes(row.nonce), bytes(row.wrapped_key), row.master_key_id


@pytest.fixture
def two_keys(personas: Personas, credential_factory: CredentialFactory) -> list[ProviderCredential]:
    return [
        credential_factory(owner=personas.member),
        credential_factory(owner=personas.eng, actor=personas.dept_admin, provider="anthropic"),
    ]


def test_rotation_rewraps_data_keys_and_leaves_secrets_untouched(
    settings: Settings,
    master_key: str,
    two_keys: list[ProviderCredential],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # given: a new current key, the old one kept readable
    before = {c.pk: sealed_state(c.pk) for c in two_keys}
    old_id = get_master_key().key_id
    settings.VAULT_MASTER_KEY = new_master_key()
    settings.VAULT_PREVIOUS_MASTER_KEYS = master_key
    new_id = get_master_key().key_id
    # when
    call_command("rotate_master_key")
    # then
    assert "re-wrapped 2, already current 0, failed 0" in capsys.readouterr().out
    for credential in two_keys:
        ciphertext, nonce, wrapped, key_id = sealed_state(credential.pk)
        assert (ciphertext, nonce) == before[credential.pk][:2]
        assert wrapped != before[credential.pk][2]
        assert key_id == new_id != old_id
    # and the old key is no longer needed
    settings.VAULT_PREVIOUS_MASTER_KEYS = ""
    member_key = ProviderCredential.objects.get(pk=two_keys[0].pk)
    assert credential_open(member_key) == {"api_key": SECRET}
    events = AuditEvent.objects.filter(action="vault.rotate")
    assert events.count() == 1
    assert events.get().details == {
        "to_key_id": new_id,
        "from_key_ids": [old_id],
        "rewrapped": 2,
        "already_current": 0,
        "failed": [],
    }


def test_rotation_is_idempotent(
    settings: Settings,
    master_key: str,
    two_keys: list[ProviderCredential],
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings.VAULT_MASTER_KEY = new_master_key()
    settings.VAULT_PREVIOUS_MASTER_KEYS = master_key
    call_command("rotate_master_key")
    after_first = {c.pk: sealed_state(c.pk) for c in two_keys}
    capsys.readouterr()
    call_command("rotate_master_key")
    assert "re-wrapped 0, already current 2, failed 0" in capsys.readouterr().out
    assert {c.pk: sealed_state(c.pk) for c in two_keys} == after_first


def test_a_dry_run_changes_nothing(
    settings: Settings,
    master_key: str,
    two_keys: list[ProviderCredential],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = {c.pk: sealed_state(c.pk) for c in two_keys}
    settings.VAULT_MASTER_KEY = new_master_key()
    settings.VAULT_PREVIOUS_MASTER_KEYS = master_key
    call_command("rotate_master_key", "--dry-run")
    assert "would re-wrap 2" in capsys.readouterr().out
    assert {c.pk: sealed_state(c.pk) for c in two_keys} == before
    assert not AuditEvent.objects.filter(action="vault.rotate").exists()


def test_an_unknown_key_id_fails_naming_the_rows_and_the_rest_is_rotated(
    settings: Settings, master_key: str, two_keys: list[ProviderCredential]
) -> None:
    # given: one row under a key nobody holds
    stray, fine = two_keys
    ProviderCredential.objects.filter(pk=stray.pk).update(master_key_id="0123456789abcdef")
    settings.VAULT_MASTER_KEY = new_master_key()
    settings.VAULT_PREVIOUS_MASTER_KEYS = master_key
    # when / then
    with pytest.raises(CommandError, match=str(stray.pk)) as caught:
        call_command("rotate_master_key")
    assert str(fine.pk) not in str(caught.value)
    assert sealed_state(fine.pk)[3] == get_master_key().key_id
    assert sealed_state(stray.pk)[3] == "0123456789abcdef"
    assert AuditEvent.objects.get(action="vault.rotate").details["failed"] == [str(stray.pk)]


def test_without_the_previous_key_every_row_fails_and_nothing_changes(
    settings: Settings, two_keys: list[ProviderCredential]
) -> None:
    before = {c.pk: sealed_state(c.pk) for c in two_keys}
    settings.VAULT_MASTER_KEY = new_master_key()
    with pytest.raises(CommandError, match="2 key\\(s\\) could not be re-wrapped"):
        call_command("rotate_master_key", "--dry-run")
    with pytest.raises(CommandError):
        call_command("rotate_master_key")
    assert {c.pk: sealed_state(c.pk) for c in two_keys} == before


def test_a_tampered_wrapped_key_is_reported_not_rewrapped(
    settings: Settings, master_key: str, two_keys: list[ProviderCredential]
) -> None:
    broken = two_keys[0]
    wrapped = bytearray(bytes(broken.wrapped_key))
    wrapped[-1] ^= 0xFF
    ProviderCredential.objects.filter(pk=broken.pk).update(wrapped_key=bytes(wrapped))
    settings.VAULT_MASTER_KEY = new_master_key()
    settings.VAULT_PREVIOUS_MASTER_KEYS = master_key
    with pytest.raises(CommandError, match=str(broken.pk)):
        call_command("rotate_master_key")
    assert sealed_state(broken.pk)[2] == bytes(wrapped)


def test_deleted_keys_are_skipped(
    settings: Settings,
    master_key: str,
    personas: Personas,
    two_keys: list[ProviderCredential],
    capsys: pytest.CaptureFixture[str],
) -> None:
    credential_delete(credential=two_keys[0], actor=personas.member)
    settings.VAULT_MASTER_KEY = new_master_key()
    settings.VAULT_PREVIOUS_MASTER_KEYS = master_key
    call_command("rotate_master_key")
    assert "re-wrapped 1, already current 0, failed 0" in capsys.readouterr().out


def test_no_master_key_is_a_command_error(settings: Settings, db: None) -> None:
    settings.VAULT_MASTER_KEY = ""
    with pytest.raises(CommandError, match="VAULT_MASTER_KEY"):
        call_command("rotate_master_key")
