"""Virtual keys: issue, verify, revoke. Keys are shown once and stored hashed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from orgs.audit import audit_record
from orgs.models import User
from orgs.selectors import primary_department_id, primary_membership
from providers.models import VirtualKey

if TYPE_CHECKING:
    from collections.abc import Iterable

KEY_PREFIX = "sk-"


def key_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    key: VirtualKey
    plaintext: str


@dataclass(frozen=True)
class Caller:
    """Who is calling the gateway, as the router, limits and ledger need it."""

    user_id: int | None
    department_id: int | None = None
    organization_id: int | None = None
    key_id: int | None = None
    allowed_models: frozenset[str] = frozenset()  # empty: every enabled model
    rpm: int | None = None
    tpm: int | None = None
    max_budget_usd: Decimal | None = None
    source: str = "api"
    expires_at: float | None = None  # the key's expiry, epoch seconds

    def may_use(self, model_name: str) -> bool:
        return not self.allowed_models or model_name in self.allowed_models


@transaction.atomic
def virtual_key_create(
    *,
    user: User,
    name: str = "",
    models: Iterable[str] = (),
    budget_usd: Decimal | None = None,
    rpm: int | None = None,
    tpm: int | None = None,
    expires_at: datetime | None = None,
    actor: User | None = None,
) -> IssuedKey:
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = VirtualKey.objects.create(
        user=user,
        name=name,
        prefix=plaintext[:10],
        key_hash=key_hash(plaintext),
        allowed_models=sorted(set(models)),
        max_budget_usd=budget_usd,
        rpm=rpm,
        tpm=tpm,
        expires_at=expires_at,
    )
    membership = primary_membership(user)
    audit_record(
        actor=actor or user,
        action="virtual_key.create",
        target=key,
        department=membership.department if membership else None,
        details={
            "name": name,
            "models": key.allowed_models,
            "prefix": key.prefix,
            "budget_usd": str(budget_usd) if budget_usd is not None else None,
            "rpm": rpm,
        },
    )
    return IssuedKey(key=key, plaintext=plaintext)


@transaction.atomic
def virtual_key_revoke(*, key: VirtualKey, actor: User | None) -> VirtualKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor, action="virtual_key.revoke", target=key, details={"prefix": key.prefix}
        )
    return key


def caller_for_key(plaintext: str) -> Caller | None:
    """The caller behind a key, or None when the key is unknown, revoked, expired or
    its owner deactivated. One query (plus the owner's department)."""
    if not plaintext.startswith(KEY_PREFIX):
        return None
    return caller_for_key_hash(key_hash(plaintext))


def caller_for_key_hash(digest: str) -> Caller | None:
    """``caller_for_key`` by the key's hash (what caches hold, never the key)."""
    key = (
        VirtualKey.objects.select_related("user")
        .filter(key_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if key is None or not key.user.is_active:
        return None
    if key.expires_at is not None and key.expires_at <= timezone.now():
        return None
    return Caller(
        user_id=key.user_id,
        department_id=primary_department_id(key.user_id),
        organization_id=key.user.organization_id,
        key_id=key.pk,
        allowed_models=frozenset(key.allowed_models),
        rpm=key.rpm,
        tpm=key.tpm,
        max_budget_usd=key.max_budget_usd,
        source="api",
        expires_at=key.expires_at.timestamp() if key.expires_at is not None else None,
    )


def caller_for_user(user: User, *, source: str) -> Caller:
    """A signed-in person calling through the chat or document search (no key)."""
    return Caller(
        user_id=user.pk,
        department_id=primary_department_id(user.pk),
        organization_id=user.organization_id,
        source=source,
    )
