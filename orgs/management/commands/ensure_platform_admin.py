"""Create the first platform admin (used by `make run`; safe to re-run)."""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from orgs.services import platform_admin_ensure


class Command(BaseCommand):
    help = "Create the first platform admin from PLATFORM_ADMIN_EMAIL / PLATFORM_ADMIN_PASSWORD."

    def handle(self, *args: Any, **options: Any) -> None:
        email = os.environ.get("PLATFORM_ADMIN_EMAIL", "admin@example.com")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(
                f"PLATFORM_ADMIN_EMAIL is not an e-mail address: {email!r}"
            ) from None
        result = platform_admin_ensure(
            email=email, password=os.environ.get("PLATFORM_ADMIN_PASSWORD")
        )
        if not result.created:
            self.stdout.write(f"Platform admin {result.user.email} exists; nothing created.")
        elif result.generated_password:
            self.stdout.write(
                f"Created platform admin {result.user.email} with password "
                f"{result.generated_password}  (shown once; change it after signing in)"
            )
        else:
            self.stdout.write(f"Created platform admin {result.user.email}.")
