"""One department (with its subdepartments), and one person's requests in it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from providers.finance import csv_tables, figures
from providers.finance.burndown import department_burndowns
from providers.finance.periods import local_today, recent_months
from providers.finance.permissions import can_manage_exchange_rates, can_read_exchange_rates
from providers.finance.request_log import request_lines, request_rows
from providers.finance.selectors import (
    rate_table,
    usage_by_user,
    usage_report,
)
from providers.finance.views.common import (
    department_scope,
    member_or_404,
    period_error,
    period_form,
    table_response,
    usage_table_export,
)

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

REQUESTS_PER_PAGE = 50
STATEMENT_MONTHS = 6


@never_cache
@login_required
@require_GET
def department_detail(request: HttpRequest, department_id: int) -> HttpResponse:
    department, scope = department_scope(request, department_id)
    form, period = period_form(request)
    context: dict[str, object] = {
        "department": department,
        "form": form,
        "statement_months": recent_months(local_today(), STATEMENT_MONTHS),
        "can_read_rates": can_read_exchange_rates(request.user),
        "can_manage_rates": can_manage_exchange_rates(request.user),
    }
    if period is None:
        return render(request, "finance/department.html", context, status=400)
    report = usage_report(scope, period)
    rates = rate_table()
    burndowns = department_burndowns(department, now=timezone.now(), rates=rates)
    users = usage_by_user(scope, period, rates)
    context.update(
        report=report,
        users=users,
        people_chart=figures.top_people_chart(users),
        own=next((line for line in report.departments if line.department == department), None),
        burndowns=[
            (
                burndown,
                figures.budget_meter(burndown),
                figures.burndown_chart(burndown) if burndown.charted else None,
            )
            for burndown in burndowns
        ],
        daily_chart=figures.daily_cost_chart(report.days),
        models_chart=figures.model_mix_chart(report.models),
    )
    return render(request, "finance/department.html", context)


@never_cache
@login_required
@require_GET
def department_export(request: HttpRequest, department_id: int, table: str) -> HttpResponse:
    department, scope = department_scope(request, department_id)
    return usage_table_export(
        request, scope, table, name=f"usage-{department.code}", with_users=True
    )


@never_cache
@login_required
@require_GET
def member_requests(request: HttpRequest, department_id: int, user_id: int) -> HttpResponse:
    department, scope = department_scope(request, department_id)
    member = member_or_404(scope, user_id)
    form, period = period_form(request)
    context: dict[str, object] = {"department": department, "member": member, "form": form}
    if period is None:
        return render(request, "finance/member.html", context, status=400)
    page = Paginator(request_rows(scope, member.pk, period), REQUESTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context.update(
        period=period,
        page=page,
        lines=request_lines(
            page.object_list, scope=scope, user_id=member.pk, period=period, rates=rate_table()
        ),
    )
    return render(request, "finance/member.html", context)


@never_cache
@login_required
@require_GET
def member_export(request: HttpRequest, department_id: int, user_id: int) -> HttpResponse:
    department, scope = department_scope(request, department_id)
    member = member_or_404(scope, user_id)
    form, period = period_form(request)
    if period is None:
        return period_error(form)
    lines = request_lines(
        request_rows(scope, member.pk, period),
        scope=scope,
        user_id=member.pk,
        period=period,
        rates=rate_table(),
    )
    return table_response(
        f"requests-{department.code}-{member.pk}", period, csv_tables.request_table(lines)
    )
