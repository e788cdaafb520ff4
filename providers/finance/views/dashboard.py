"""The finance dashboard: everything in the reader's scope over a period."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from providers.finance import figures
from providers.finance.permissions import can_manage_exchange_rates, can_read_exchange_rates
from providers.finance.selectors import (
    usage_report,
)
from providers.finance.views.common import period_form, reader_scope, usage_table_export

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


@never_cache
@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = reader_scope(request)
    form, period = period_form(request)
    context: dict[str, object] = {
        "form": form,
        "can_read_rates": can_read_exchange_rates(request.user),
        "can_manage_rates": can_manage_exchange_rates(request.user),
    }
    if period is None:
        return render(request, "finance/dashboard.html", context, status=400)
    report = usage_report(scope, period)
    context.update(
        report=report,
        daily_chart=figures.daily_cost_chart(report.days),
        departments_chart=figures.top_departments_chart(report.departments),
        models_chart=figures.model_mix_chart(report.models),
    )
    return render(request, "finance/dashboard.html", context)


@never_cache
@login_required
@require_GET
def dashboard_export(request: HttpRequest, table: str) -> HttpResponse:
    scope = reader_scope(request)
    return usage_table_export(request, scope, table, name="usage", with_users=False)
