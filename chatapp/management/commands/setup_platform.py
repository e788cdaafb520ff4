"""Bring a database and the static files up to date in one process (used by `make run`).

migrate, compilemessages, collectstatic, the first platform admin, a models
configuration and the pricing catalog: each step is idempotent, so running it
on every start keeps what admins changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate, build messages and static files, ensure the first admin, apply models."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--models-config", type=Path, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("compilemessages", verbosity=0, ignore_patterns=[".venv", "node_modules"])
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("ensure_platform_admin", stdout=self.stdout)
        if options["models_config"] is not None:
            call_command("apply_models_config", str(options["models_config"]), stdout=self.stdout)
        call_command("load_price_catalog", stdout=self.stdout)
