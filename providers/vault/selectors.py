"""Reads on the vault for its pages. Rows carry no secret that a page could show
beyond ``last4``; the sealed columns are deferred."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet

from orgs.permissions import managed_departments
from providers.vault.models import ProviderCredential

if TYPE_CHECKING:
    from orgs.models import Department, User
    from orgs.permissions import AnyUser

_SEALED = ("ciphertext", "nonce", "wrapped_key")


def _active() -> QuerySet[ProviderCredential]:
    return (
        ProviderCredential.objects.filter(revoked_at__isnull=True)
        .defer(*_SEALED)
        .select_related("created_by")
        .order_by("provider", "-created_at")
    )


def credential_list_for_user(user: User) -> QuerySet[ProviderCredential]:
    """The user's own active keys."""
    return _active().filter(owner_user=user)


def credential_list_for_department(department: Department) -> QuerySet[ProviderCredential]:
    """The department's active keys (not its sub-departments')."""
    return _active().filter(owner_department=department)


def department_list_with_key_counts(user: AnyUser) -> QuerySet[Department]:
    """Departments ``user`` administers, each annotated with ``key_count``."""
    return managed_departments(user).annotate(
        key_count=Count(
            "provider_credentials",
            filter=Q(provider_credentials__revoked_at__isnull=True),
        )
    )
