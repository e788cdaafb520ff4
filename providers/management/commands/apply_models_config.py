"""python manage.py apply_models_config FILE — contract 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from providers.config_import import models_config_apply, models_config_parse
from providers.errors import GatewayError


class Command(BaseCommand):
    help = (
        "Apply a LiteLLM-compatible models configuration (model_list, router_settings, fallbacks)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        try:
            result = models_config_apply(models_config_parse(text))
        except GatewayError as exc:
            raise CommandError(f"{path}: {exc.message}") from None
        self.stdout.write(
            f"Applied {path}: {result.created} created, {result.updated} updated, "
            f"{result.removed} removed."
        )
