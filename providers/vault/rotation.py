"""Master key rotation: re-wrap every data key that is not under the current master
key. Secrets are not re-encrypted (``ciphertext`` and ``nonce`` stay byte for byte).
Each row is its own transaction, so a failure leaves the others done, and a re-run
only picks up what is left."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import transaction

from orgs.audit import audit_record
from providers.vault.errors import VaultError
from providers.vault.master import get_master_key
from providers.vault.models import ProviderCredential
from providers.vault.services import credential_rewrap

if TYPE_CHECKING:
    from uuid import UUID

    from orgs.models import User
    from providers.vault.master import MasterKey


@dataclass
class RotationReport:
    current_key_id: str
    dry_run: bool
    already_current: int = 0
    rewrapped: list[UUID] = field(default_factory=list)
    from_key_ids: set[str] = field(default_factory=set)
    # credential id → why it could not be re-wrapped (an error code and message).
    failed: dict[UUID, str] = field(default_factory=dict)


def master_key_rotate(
    *, actor: User | None = None, dry_run: bool = False, master: MasterKey | None = None
) -> RotationReport:
    """Re-wrap the active credentials' data keys under ``master.key_id``, reading the
    old ones through the previous keys the backend holds. Audited once ("vault.rotate")
    unless ``dry_run``. Rows that fail are listed in the report, never skipped silently."""
    master = master or get_master_key()
    report = RotationReport(current_key_id=master.key_id, dry_run=dry_run)
    active = ProviderCredential.objects.filter(revoked_at__isnull=True)
    report.already_current = active.filter(master_key_id=master.key_id).count()
    pending = active.exclude(master_key_id=master.key_id).order_by("created_at", "pk")
    for credential_id in pending.values_list("pk", flat=True):
        try:
            outcome = credential_rewrap(credential_id=credential_id, master=master, dry_run=dry_run)
        except ProviderCredential.DoesNotExist:
            continue  # deleted meanwhile
        except VaultError as exc:
            report.failed[credential_id] = f"{exc.code}: {exc.message}"
            continue
        if outcome.rewrapped:
            report.rewrapped.append(outcome.credential_id)
            report.from_key_ids.add(outcome.from_key_id)
        else:
            report.already_current += 1
    if not dry_run:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="vault.rotate",
                details={
                    "to_key_id": report.current_key_id,
                    "from_key_ids": sorted(report.from_key_ids),
                    "rewrapped": len(report.rewrapped),
                    "already_current": report.already_current,
                    "failed": sorted(str(pk) for pk in report.failed),
                },
            )
    return report
