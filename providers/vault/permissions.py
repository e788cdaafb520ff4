"""Who may manage which registered key (R3): everyone their own; department admins
those of the departments they administer (``orgs.permissions.managed_departments``)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db.models import Q

from orgs.errors import AccessDenied
from orgs.permissions import managed_departments
from providers.vault.models import ProviderCredential

if TYPE_CHECKING:
    from orgs.permissions import AnyUser


def access_credential(user: AnyUser, credential_id: uuid.UUID | str) -> ProviderCredential:
    """An active key ``user`` may manage, or AccessDenied (rendered as 404)."""
    if not user.is_authenticated or not user.is_active:
        raise AccessDenied("No such key")
    try:
        pk = credential_id if isinstance(credential_id, uuid.UUID) else uuid.UUID(credential_id)
    except ValueError:
        raise AccessDenied("No such key") from None
    credential = (
        ProviderCredential.objects.select_related("owner_user", "owner_department")
        .filter(pk=pk, revoked_at__isnull=True)
        .filter(Q(owner_user=user) | Q(owner_department__in=managed_departments(user)))
        .first()
    )
    if credential is None:
        raise AccessDenied("No such key")
    return credential
