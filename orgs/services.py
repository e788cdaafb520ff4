"""Writes on people and the organization."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from orgs.models import User


@dataclass(frozen=True)
class PlatformAdminResult:
    user: User
    created: bool
    generated_password: str | None


@transaction.atomic
def platform_admin_ensure(*, email: str, password: str | None) -> PlatformAdminResult:
    """Create the first platform admin unless that account exists already.

    An existing account is left as it is (its password is never reset), so that
    re-running the set-up keeps what the admin changed. A missing password is
    generated and returned once so the caller can show it.
    """
    email = email.strip().lower()
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return PlatformAdminResult(user=existing, created=False, generated_password=None)
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    user = User.objects.create_superuser(email, password, name="Platform admin")
    return PlatformAdminResult(user=user, created=True, generated_password=generated)
