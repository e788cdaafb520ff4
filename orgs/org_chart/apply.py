"""Apply a parsed org chart to the database: all or nothing, one import at a time, and
optionally as a dry run that reports the changes and rolls them back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import connection, transaction

from orgs.org_chart.importer import OrgChartImport

if TYPE_CHECKING:
    from orgs.audit import RequestContext
    from orgs.models import User
    from orgs.org_chart.types import ImportResult, OrgChart

_LOCK_KEY = 0x4F524743  # "ORGC": one import at a time


class _DryRun(Exception):
    """Raised inside the import's transaction to roll a dry run back."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("dry run")
        self.result = result


def org_chart_apply(
    chart: OrgChart,
    *,
    actor: User | None,
    deactivate_missing: bool,
    dry_run: bool = False,
    context: RequestContext | None = None,
) -> ImportResult:
    """Make the organization match ``chart``, all or nothing; idempotent.

    With ``dry_run`` the same work runs in a transaction that is then rolled back, so the
    result lists exactly what applying would change. Permission is checked by the caller.
    One ``org_chart.import`` audit event holds the counts; the services record the rest.
    """
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            result = OrgChartImport(chart, actor=actor, context=context, dry_run=dry_run).run(
                deactivate_missing=deactivate_missing
            )
            if dry_run:
                raise _DryRun(result)
    except _DryRun as rollback:
        return rollback.result
    return result
