"""python manage.py create_virtual_key --user EMAIL [--models a,b] [--budget USD] [--rpm N]

Contract 4: prints the new key once, on stdout, alone.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgs.models import User
from providers import gateway
from providers.keys import virtual_key_create


class Command(BaseCommand):
    help = "Issue a virtual key for the OpenAI-compatible API; prints the key once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the owner's e-mail address")
        parser.add_argument(
            "--models", default="", help="comma-separated model names (default: all)"
        )
        parser.add_argument("--budget", default=None, help="maximum spend in USD")
        parser.add_argument("--rpm", type=int, default=None, help="requests per minute")
        parser.add_argument("--name", default="", help="a label for the key")

    def handle(self, *args: Any, **options: Any) -> None:
        email = str(options["user"]).strip().lower()
        user = User.objects.filter(email=email).first()
        if user is None:
            raise CommandError(f"No user with the e-mail address {email}")
        if not user.is_active:
            raise CommandError(f"{email} is deactivated")
        models = [m.strip() for m in str(options["models"]).split(",") if m.strip()]
        known = {info.name for info in gateway.models()}
        unknown = sorted(set(models) - known)
        if unknown:
            raise CommandError(f"Unknown model(s): {', '.join(unknown)}")
        budget = None
        if options["budget"] is not None:
            try:
                budget = Decimal(str(options["budget"]))
            except InvalidOperation:
                raise CommandError("--budget must be a number of USD") from None
            if budget < 0:
                raise CommandError("--budget must not be negative")
        rpm = options["rpm"]
        if rpm is not None and rpm <= 0:
            raise CommandError("--rpm must be positive")
        issued = virtual_key_create(
            user=user, name=options["name"], models=models, budget_usd=budget, rpm=rpm
        )
        self.stdout.write(issued.plaintext)
