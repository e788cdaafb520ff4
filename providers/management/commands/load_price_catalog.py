"""python manage.py load_price_catalog [FILE] — defaults to config/pricing.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from providers.errors import GatewayError
from providers.pricing import price_catalog_load


class Command(BaseCommand):
    help = "Load the USD-per-token pricing catalog (JSON) into the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            nargs="?",
            type=Path,
            default=Path(settings.BASE_DIR) / "config" / "pricing.json",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            result = price_catalog_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        except GatewayError as exc:
            raise CommandError(f"{path}: {exc.message}") from None
        self.stdout.write(
            f"Prices loaded from {path}: {result.created} new, {result.updated} updated."
        )
