"""Check the audit trail's hash chain; exits non-zero at the first broken event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from orgs.audit import audit_verify


class Command(BaseCommand):
    help = (
        "Recompute every audit event's hash in sequence order and compare it with the "
        "stored chain. Reports the first edited, missing or unlinked event."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if not result.ok:
            raise CommandError(
                f"Audit chain broken at event #{result.first_bad_seq}: {result.problem}. "
                f"{result.checked} events before it are intact."
            )
        self.stdout.write(f"Audit chain intact: {result.checked} events")
