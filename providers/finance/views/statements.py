"""The monthly statement of a department: a printable page and its CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from providers.finance import csv_tables
from providers.finance.csv_export import csv_response
from providers.finance.forms import EARLIEST_DAY
from providers.finance.periods import local_today
from providers.finance.statements import statement_build
from providers.finance.views.common import actor, department_scope

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from providers.finance.statements import Statement


def _month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` between 2000-01 and next year, else 404."""
    year, month = (int(part) for part in text.split("-", 1))
    if not 1 <= month <= 12 or not EARLIEST_DAY.year <= year <= local_today().year + 1:
        raise Http404
    return year, month


def _statement(request: HttpRequest, department_id: int, month: str) -> Statement:
    department, scope = department_scope(request, department_id)
    year, number = _month(month)
    return statement_build(scope, department, year=year, month=number, now=timezone.now())


@never_cache
@login_required
@require_GET
def statement_page(request: HttpRequest, department_id: int, month: str) -> HttpResponse:
    statement = _statement(request, department_id, month)
    return render(
        request,
        "finance/statement.html",
        {"statement": statement, "month": month, "reader": actor(request)},
    )


@never_cache
@login_required
@require_GET
def statement_export(request: HttpRequest, department_id: int, month: str) -> HttpResponse:
    statement = _statement(request, department_id, month)
    header, rows = csv_tables.statement_table(statement)
    return csv_response(f"statement-{statement.department.code}-{month}.csv", header, rows)
