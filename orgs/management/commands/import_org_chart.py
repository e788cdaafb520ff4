"""python manage.py import_org_chart FILE [--deactivate-missing] [--dry-run] — contract 3."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgs.errors import OrgError
from orgs.org_chart import org_chart_apply, org_chart_parse

if TYPE_CHECKING:
    from orgs.org_chart import ImportResult


class Command(BaseCommand):
    help = (
        "Import the org chart YAML (organization, departments, users). Idempotent; a malformed "
        "file is reported as FILE:LINE: problem and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the org chart YAML file")
        parser.add_argument(
            "--deactivate-missing",
            action="store_true",
            help="deactivate the organization's active users who are not in the file",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="show what would change and change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        filename: str = options["file"]
        try:
            text = Path(filename).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"{filename}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise CommandError(f"{filename}: not UTF-8 text") from None
        try:
            chart = org_chart_parse(text, filename=filename)
            result = org_chart_apply(
                chart,
                actor=None,
                deactivate_missing=options["deactivate_missing"],
                dry_run=options["dry_run"],
            )
        except OrgError as exc:
            raise CommandError(exc.message) from None
        self.report(filename, result, verbosity=options["verbosity"])

    def report(self, filename: str, result: ImportResult, *, verbosity: int) -> None:
        if result.dry_run:
            self.stdout.write(
                f"Dry run of {filename} for {result.organization}: nothing was changed. "
                "Importing it would make these changes."
            )
        else:
            self.stdout.write(f"Imported {filename} into {result.organization}.")
        self.stdout.write(
            f"Departments: {result.departments_created} created, "
            f"{result.departments_updated} updated, {result.departments_moved} moved."
        )
        self.stdout.write(
            f"Users: {result.users_created} created, {result.users_updated} updated, "
            f"{result.users_moved} moved, {result.users_roles_changed} roles changed, "
            f"{result.users_deactivated} deactivated, {result.users_reactivated} reactivated."
        )
        if verbosity < 1:
            return
        for line in result.changes:
            self.stdout.write(f"  {line}")
        for line in result.notes:
            self.stdout.write(f"  ({line})")
        if not result.changes:
            self.stdout.write("No changes: the organization already matches the file.")
