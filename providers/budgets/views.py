"""Budgets, rate limits and notices pages. Thin: permissions, forms, services."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from orgs.errors import AccessDenied
from orgs.models import Organization, User
from providers.budgets.forms import BudgetEditForm, BudgetForm, RateLimitForm
from providers.budgets.models import Budget, Notice, RateLimit
from providers.budgets.periods import window_bounds
from providers.budgets.permissions import (
    access_budget,
    budget_departments,
    budget_people,
    budgets_visible_to,
    can_manage_budget,
    can_see_budgets,
    can_set_organization_budget,
)
from providers.budgets.selectors import budget_spend
from providers.budgets.services import (
    budget_create,
    budget_delete,
    budget_update,
    notices_mark_read,
    rate_limit_set,
)


@dataclass(frozen=True)
class BudgetRow:
    budget: Budget
    spent: Decimal
    percent: int
    resets_at: str
    editable: bool


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    return request.user


def _rows(user: User) -> list[BudgetRow]:
    now = timezone.now()
    rows = []
    for budget in budgets_visible_to(user).order_by("scope", "department__path", "id"):
        spent = budget_spend(budget, at=now)
        _start, end = window_bounds(budget.period, now)
        rows.append(
            BudgetRow(
                budget=budget,
                spent=spent,
                percent=int(min(Decimal(999), spent / budget.limit_usd * 100)),
                resets_at=""
                if budget.period == Budget.Period.TOTAL
                else timezone.localtime(end).strftime("%Y-%m-%d %H:%M"),
                editable=can_manage_budget(user, budget),
            )
        )
    return rows


def _organization_for(actor: User, data: dict[str, Any]) -> Organization | None:
    """The organization a new budget belongs to: its department's or person's; for an
    organization budget the actor's (or the only one, for an admin outside any)."""
    if data["scope"] == "department":
        return data["department"].organization  # type: ignore[no-any-return]
    if data["scope"] == "user":
        return data["user"].organization  # type: ignore[no-any-return]
    if actor.organization is not None:
        return actor.organization
    organizations = list(Organization.objects.all()[:2])
    return organizations[0] if len(organizations) == 1 else None


@login_required
@require_http_methods(["GET", "POST"])
def budget_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not can_see_budgets(actor):
        raise Http404
    departments = budget_departments(actor)
    people = budget_people(actor)
    form = BudgetForm(
        request.POST or None,
        departments=departments,
        people=people,
        organization_allowed=can_set_organization_budget(actor),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organization = _organization_for(actor, data)
        if organization is None:
            form.add_error(None, _("Your account belongs to no organization; ask to be added."))
        elif Budget.objects.filter(
            scope=data["scope"],
            organization=organization,
            department=data.get("department") if data["scope"] == "department" else None,
            user=data.get("user") if data["scope"] == "user" else None,
            virtual_key=None,
            period=data["period"],
        ).exists():
            form.add_error(None, _("A budget for this scope and period exists already; edit it."))
        else:
            budget_create(
                organization=organization,
                scope=data["scope"],
                period=data["period"],
                limit_usd=data["limit_usd"],
                enforcement=data["enforcement"],
                department=data.get("department"),
                user=data.get("user"),
                webhook_url=data.get("webhook_url") or "",
                actor=actor,
            )
            messages.success(request, _("Budget saved."))
            return redirect("budgets:list")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "budgets/list.html",
        {
            "rows": _rows(actor),
            "form": form,
            "can_create": departments.exists() or people.exists(),
            "limits": RateLimit.objects.filter(department__in=departments).select_related(
                "department"
            )
            | RateLimit.objects.filter(user__in=people).select_related("user"),
        },
        status=status,
    )


def _budget_or_404(request: HttpRequest, budget_id: int) -> Budget:
    try:
        return access_budget(request.user, budget_id)
    except AccessDenied:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def budget_edit(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = _budget_or_404(request, budget_id)
    form = BudgetEditForm(
        request.POST or None,
        initial={
            "limit_usd": budget.limit_usd,
            "enforcement": budget.enforcement,
            "webhook_url": budget.webhook_url,
        },
    )
    if request.method == "POST" and form.is_valid():
        budget_update(
            budget=budget,
            limit_usd=form.cleaned_data["limit_usd"],
            enforcement=form.cleaned_data["enforcement"],
            webhook_url=form.cleaned_data.get("webhook_url") or "",
            actor=_actor(request),
        )
        messages.success(request, _("Budget saved."))
        return redirect("budgets:list")
    status = 400 if request.method == "POST" else 200
    return render(request, "budgets/edit.html", {"budget": budget, "form": form}, status=status)


@login_required
@require_POST
def budget_remove(request: HttpRequest, budget_id: int) -> HttpResponse:
    budget = _budget_or_404(request, budget_id)
    budget_delete(budget=budget, actor=_actor(request))
    messages.success(request, _("Budget deleted."))
    return redirect("budgets:list")


@login_required
@require_http_methods(["GET", "POST"])
def rate_limits(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    departments = budget_departments(actor)
    people = budget_people(actor)
    if not departments.exists() and not people.exists():
        raise Http404
    form = RateLimitForm(request.POST or None, departments=departments, people=people)
    if request.method == "POST" and form.is_valid():
        rate_limit_set(
            department=form.cleaned_data.get("department"),
            user=form.cleaned_data.get("user"),
            rpm=form.cleaned_data.get("rpm"),
            tpm=form.cleaned_data.get("tpm"),
            actor=actor,
        )
        messages.success(request, _("Rate limit saved."))
        return redirect("budgets:rate_limits")
    limits = (
        RateLimit.objects.filter(department__in=departments)
        | RateLimit.objects.filter(user__in=people)
    ).select_related("department", "user")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "budgets/rate_limits.html", {"form": form, "limits": limits}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def notices(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if request.method == "POST":
        notices_mark_read(user=actor)
        return redirect("budgets:notices")
    items = Notice.objects.filter(recipient=actor)[:200]
    return render(request, "budgets/notices.html", {"notices": items})
