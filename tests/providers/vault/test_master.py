from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pytest
from pytest_django.fixtures import Settings

from orgs.models import User
from providers.errors import GatewayError
from providers.vault.errors import CredentialTampered, UnknownMasterKey, VaultUnavailable
from providers.vault.master import EnvironmentMasterKey, MasterKey, get_master_key
from providers.vault.services import credential_open
from tests.providers.vault.conftest import SECRET, CredentialFactory, new_master_key


class RecordingKms:
    """A stand-in for a KMS client behind the MasterKey interface: wraps by XOR with
    a pad it keeps, and records the associated data it was given."""

    calls: list[tuple[str, bytes]] = []
    _pad = os.urandom(32)

    @property
    def key_id(self) -> str:
        return "kms-key-1"

    def wrap(self, data_key: bytes, *, aad: bytes) -> tuple[str, bytes]:
        self.calls.append(("wrap", aad))
        tag = hashlib.sha256(aad).digest()[:8]
        return self.key_id, tag + bytes(a ^ b for a, b in zip(data_key, self._pad, strict=True))

    def unwrap(self, wrapped: bytes, *, key_id: str, aad: bytes) -> bytes:
        self.calls.append(("unwrap", aad))
        if key_id != self.key_id:
            raise UnknownMasterKey("unknown", key_id=key_id)
        if wrapped[:8] != hashlib.sha256(aad).digest()[:8]:
            raise CredentialTampered("aad mismatch")
        return bytes(a ^ b for a, b in zip(wrapped[8:], self._pad, strict=True))


def test_key_id_is_a_derived_fingerprint_not_a_hash_of_the_key() -> None:
    # given
    raw = os.urandom(32)
    encoded = base64.b64encode(raw).decode()
    # when
    key_id = EnvironmentMasterKey(current=encoded, previous="").key_id
    # then
    assert len(key_id) == 16
    assert key_id != hashlib.sha256(raw).hexdigest()[:16]
    assert key_id == hmac.new(raw, b"sanae-vault master key id v1", hashlib.sha256).hexdigest()[:16]
    assert EnvironmentMasterKey(current=encoded, previous="").key_id == key_id
    assert EnvironmentMasterKey(current=new_master_key(), previous="").key_id != key_id


def test_wrap_round_trip_is_bound_to_the_associated_data() -> None:
    master = EnvironmentMasterKey(current=new_master_key(), previous="")
    data_key = os.urandom(32)
    key_id, wrapped = master.wrap(data_key, aad=b"row-a")
    assert key_id == master.key_id
    assert data_key not in wrapped
    assert master.unwrap(wrapped, key_id=key_id, aad=b"row-a") == data_key
    with pytest.raises(CredentialTampered):
        master.unwrap(wrapped, key_id=key_id, aad=b"row-b")


def test_previous_keys_unwrap_but_only_the_current_one_wraps() -> None:
    old, new = new_master_key(), new_master_key()
    before = EnvironmentMasterKey(current=old, previous="")
    key_id, wrapped = before.wrap(b"k" * 32, aad=b"x")
    after = EnvironmentMasterKey(current=new, previous=f" {new_master_key()},\n{old} ")
    assert after.unwrap(wrapped, key_id=key_id, aad=b"x") == b"k" * 32
    assert after.wrap(b"k" * 32, aad=b"x")[0] == after.key_id != key_id


@pytest.mark.parametrize(
    ("current", "previous", "says"),
    [
        ("", "", "VAULT_MASTER_KEY"),
        ("not base64!", "", "not valid base64"),
        (base64.b64encode(b"short").decode(), "", "32 bytes"),
        (new_master_key(), "%%%", "VAULT_PREVIOUS_MASTER_KEYS is not valid base64"),
    ],
)
def test_missing_or_malformed_keys_are_a_clear_503(current: str, previous: str, says: str) -> None:
    with pytest.raises(VaultUnavailable, match=says) as caught:
        EnvironmentMasterKey(current=current, previous=previous)
    assert isinstance(caught.value, GatewayError)
    assert caught.value.status == 503
    if current:
        assert current not in caught.value.message


def test_repr_shows_no_key_material() -> None:
    key = new_master_key()
    assert key not in repr(EnvironmentMasterKey(current=key, previous=""))


def test_get_master_key_reads_current_settings(settings: Settings, master_key: str) -> None:
    first = get_master_key()
    assert isinstance(first, MasterKey)
    settings.VAULT_MASTER_KEY = new_master_key()
    assert get_master_key().key_id != first.key_id


def test_a_kms_backend_plugs_in_behind_the_same_interface(
    settings: Settings, personas: object, credential_factory: CredentialFactory
) -> None:
    # given
    settings.VAULT_MASTER_KEY_BACKEND = "tests.providers.vault.test_master.RecordingKms"
    settings.VAULT_MASTER_KEY = ""  # the environment backend would refuse to start
    RecordingKms.calls.clear()
    owner = User.objects.get(email="member@acme.test")
    # when
    credential = credential_factory(owner=owner)
    opened = credential_open(credential)
    # then
    assert credential.master_key_id == "kms-key-1"
    assert opened == {"api_key": SECRET}
    assert [kind for kind, _ in RecordingKms.calls] == ["wrap", "unwrap"]
    assert all(str(credential.pk).encode() in aad for _, aad in RecordingKms.calls)


def test_an_unknown_backend_is_a_clear_error(settings: Settings) -> None:
    settings.VAULT_MASTER_KEY_BACKEND = "providers.vault.master.NoSuchBackend"
    with pytest.raises(VaultUnavailable, match="NoSuchBackend"):
        get_master_key()
    settings.VAULT_MASTER_KEY_BACKEND = "collections.OrderedDict"
    with pytest.raises(VaultUnavailable, match="is not a master key backend"):
        get_master_key()
