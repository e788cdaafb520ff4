"""Fixtures of the vault tests: a fresh master key per test, an empty credential
index, and a factory for registered keys."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import translation
from pytest_django.fixtures import Settings

from orgs.models import Department, User
from providers.vault.index import get_credential_index
from providers.vault.models import ProviderCredential
from providers.vault.services import credential_create

# A fake but well-formed key; tests search pages, logs and audit rows for it.
SECRET = "sk-proj-VAULT-TEST-SECRET-0123456789-abcd"

CredentialFactory = Callable[..., ProviderCredential]


def new_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(autouse=True)
def master_key(settings: Settings) -> str:
    key = new_master_key()
    settings.VAULT_MASTER_KEY = key
    settings.VAULT_PREVIOUS_MASTER_KEYS = ""
    settings.VAULT_MASTER_KEY_BACKEND = "providers.vault.master.EnvironmentMasterKey"
    return key


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages are asserted in English; the Korean catalogue may not have them yet."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _empty_credential_index() -> Iterator[None]:
    """Rolled-back test transactions never commit, so nothing would invalidate it."""
    get_credential_index().invalidate()
    yield
    get_credential_index().invalidate()


@pytest.fixture
def credential_factory(db: None) -> CredentialFactory:
    def make(
        *,
        owner: User | Department,
        provider: str = "openai",
        secrets: dict[str, str] | None = None,
        label: str = "",
        actor: User | None = None,
    ) -> ProviderCredential:
        owner_kwargs: dict[str, Any] = (
            {"owner_user": owner} if isinstance(owner, User) else {"owner_department": owner}
        )
        if actor is None:
            assert isinstance(owner, User), "a department's key needs an actor"
            actor = owner
        return credential_create(
            **owner_kwargs,
            provider=provider,
            secrets=secrets if secrets is not None else {"api_key": SECRET},
            label=label,
            actor=actor,
        )

    return make
