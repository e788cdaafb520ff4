"""What every finance page does first: who reads, which scope, which period."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404, HttpResponseBadRequest
from django.utils.translation import gettext as _

from orgs.errors import AccessDenied
from orgs.models import User
from providers.finance import csv_tables
from providers.finance.csv_export import csv_response
from providers.finance.forms import PeriodForm
from providers.finance.permissions import access_usage_department, access_usage_member
from providers.finance.scope import usage_scope_for
from providers.finance.selectors import (
    rate_table,
    usage_by_day,
    usage_by_department,
    usage_by_model,
    usage_by_provider,
    usage_by_user,
)

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from providers.finance.csv_tables import Table
    from providers.finance.periods import Period
    from providers.finance.scope import DepartmentRef, UsageScope


def actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    return request.user


def reader_scope(request: HttpRequest) -> UsageScope:
    """The reader's scope; 404 for anyone who may read no usage at all."""
    scope = usage_scope_for(request.user)
    if not scope:
        raise Http404
    return scope


def department_scope(request: HttpRequest, department_id: int) -> tuple[DepartmentRef, UsageScope]:
    """A department of the reader's scope and the scope narrowed to its subtree, or 404."""
    scope = reader_scope(request)
    try:
        department = access_usage_department(scope, department_id)
    except AccessDenied:
        raise Http404 from None
    return department, scope.narrowed_to(department)


def member_or_404(scope: UsageScope, user_id: int) -> User:
    try:
        return access_usage_member(scope, user_id)
    except AccessDenied:
        raise Http404 from None


def period_form(request: HttpRequest) -> tuple[PeriodForm, Period | None]:
    """The period form for the page and the period of the query string (None, with the
    bound form and its errors, when the query string is not valid)."""
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return form, None
    period = form.resolved()
    # Shown again unbound, so the date fields show the days a named period stands for.
    shown = PeriodForm(
        initial={"period": period.preset, "date_from": period.first, "date_to": period.last}
    )
    return shown, period


def period_error(form: PeriodForm) -> HttpResponseBadRequest:
    """A plain 400 for exports: the form's first error, in the reader's language."""
    errors = [str(error) for errors in form.errors.values() for error in errors]
    return HttpResponseBadRequest(
        errors[0] if errors else _("The period is not valid."), content_type="text/plain"
    )


def table_response(name: str, period: Period, table: Table) -> HttpResponse:
    header, rows = table
    return csv_response(f"{name}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv", header, rows)


def usage_table_export(
    request: HttpRequest, scope: UsageScope, table: str, *, name: str, with_users: bool
) -> HttpResponse:
    """One usage table of ``scope`` over the requested period, as CSV (404 for a table
    the page does not have)."""
    tables = ("departments", "users", "models", "providers", "days")
    if table not in tables or (table == "users" and not with_users):
        raise Http404
    form, period = period_form(request)
    if period is None:
        return period_error(form)
    rates = rate_table()
    if table == "departments":
        rows = csv_tables.department_table(usage_by_department(scope, period, rates))
    elif table == "users":
        rows = csv_tables.user_table(usage_by_user(scope, period, rates))
    elif table == "models":
        rows = csv_tables.keyed_table("model_group", usage_by_model(scope, period, rates))
    elif table == "providers":
        rows = csv_tables.keyed_table("provider", usage_by_provider(scope, period, rates))
    else:
        rows = csv_tables.day_table(usage_by_day(scope, period, rates))
    return table_response(f"{name}-{table}", period, rows)
