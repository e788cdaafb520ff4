"""``python manage.py rotate_master_key [--dry-run]``: re-wrap every BYOK data key
under the current VAULT_MASTER_KEY (the old keys listed in
VAULT_PREVIOUS_MASTER_KEYS), without re-encrypting the secrets."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from providers.vault.errors import VaultError
from providers.vault.rotation import master_key_rotate


class Command(BaseCommand):
    help = (
        "Re-wrap the data keys of the BYOK vault under the current master key. Set the new "
        "key in VAULT_MASTER_KEY and the old one in VAULT_PREVIOUS_MASTER_KEYS first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check that every data key can be re-wrapped, and change nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        try:
            report = master_key_rotate(dry_run=dry_run)
        except VaultError as exc:
            raise CommandError(exc.message) from None
        verb = "would re-wrap" if dry_run else "re-wrapped"
        self.stdout.write(
            f"master key {report.current_key_id}: {verb} {len(report.rewrapped)}, "
            f"already current {report.already_current}, failed {len(report.failed)}"
        )
        if report.failed:
            for credential_id, reason in sorted(report.failed.items(), key=lambda i: str(i[0])):
                self.stderr.write(f"  {credential_id}: {reason}")
            raise CommandError(
                f"{len(report.failed)} key(s) could not be re-wrapped: "
                + ", ".join(sorted(str(pk) for pk in report.failed))
            )
