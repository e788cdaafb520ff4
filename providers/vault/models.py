"""Provider keys that users and departments bring themselves (BYOK).

Each row holds one sealed secret: the secrets JSON encrypted with its own AES-256-GCM
data key (``ciphertext``, ``nonce``), the data key wrapped by the master key
(``wrapped_key`` under ``master_key_id``). Both are bound by associated data to the
row id, its owner and provider (``providers.vault.sealing``). Only
``providers.vault.services`` writes these fields.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orgs.models import Department
from providers.vault.schema import BYOK_PROVIDERS, PROVIDER_LABELS


class OwnerKind(models.TextChoices):
    USER = "user", _("personal")
    DEPARTMENT = "department", _("department")


class ProviderCredential(models.Model):
    # Generated in Python so the id is known, and sealed into the AAD, before insert.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="provider_credentials",
        verbose_name=_("owner"),
    )
    owner_department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="provider_credentials",
        verbose_name=_("owning department"),
    )
    provider = models.CharField(
        _("provider"),
        max_length=32,
        choices=[(p, PROVIDER_LABELS[p]) for p in BYOK_PROVIDERS],
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    format_version = models.PositiveSmallIntegerField(default=1, editable=False)
    ciphertext = models.BinaryField(editable=False)
    nonce = models.BinaryField(editable=False)
    wrapped_key = models.BinaryField(editable=False)
    master_key_id = models.CharField(max_length=64, editable=False, db_index=True)
    last4 = models.CharField(_("last four characters"), max_length=4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # Deleting keeps the row for the audit trail and the ledger, and erases the sealed
    # fields: the secret is gone for good.
    revoked_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("provider key")
        verbose_name_plural = _("provider keys")
        ordering = ("provider", "-created_at")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(owner_user__isnull=False, owner_department__isnull=True)
                    | Q(owner_user__isnull=True, owner_department__isnull=False)
                ),
                name="vault_credential_one_owner",
            ),
            models.UniqueConstraint(
                fields=("owner_user", "provider"),
                condition=Q(revoked_at__isnull=True, owner_user__isnull=False),
                name="vault_credential_one_active_per_user",
            ),
            models.UniqueConstraint(
                fields=("owner_department", "provider"),
                condition=Q(revoked_at__isnull=True, owner_department__isnull=False),
                name="vault_credential_one_active_per_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} …{self.last4}"

    @property
    def owner_kind(self) -> str:
        return OwnerKind.USER if self.owner_user_id is not None else OwnerKind.DEPARTMENT

    @property
    def owner_id(self) -> int:
        owner = self.owner_user_id if self.owner_user_id is not None else self.owner_department_id
        assert owner is not None  # noqa: S101 - the check constraint guarantees one owner
        return int(owner)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
