"""The exchange-rate table: finance and platform admins maintain it, readers see it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from orgs.audit import RequestContext
from orgs.errors import AccessDenied
from providers.finance.errors import RateConflict
from providers.finance.forms import ExchangeRateForm
from providers.finance.models import ExchangeRate
from providers.finance.permissions import (
    access_exchange_rate,
    can_manage_exchange_rates,
    can_read_exchange_rates,
)
from providers.finance.services import (
    exchange_rate_create,
    exchange_rate_delete,
    exchange_rate_update,
)
from providers.finance.views.common import actor

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

RATES_PER_PAGE = 50


def _rate_or_404(request: HttpRequest, rate_id: int) -> ExchangeRate:
    try:
        return access_exchange_rate(request.user, rate_id)
    except AccessDenied:
        raise Http404 from None


@login_required
@require_GET
def rate_list(request: HttpRequest) -> HttpResponse:
    if not can_read_exchange_rates(request.user):
        raise Http404
    rates = ExchangeRate.objects.select_related("created_by").order_by("currency", "-valid_from")
    return render(
        request,
        "finance/rates.html",
        {
            "page": Paginator(rates, RATES_PER_PAGE).get_page(request.GET.get("page")),
            "can_manage": can_manage_exchange_rates(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rate_add(request: HttpRequest) -> HttpResponse:
    if not can_manage_exchange_rates(request.user):
        raise Http404
    form = ExchangeRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rate = exchange_rate_create(
                actor=actor(request),
                context=RequestContext.from_request(request),
                **form.cleaned_data,
            )
        except RateConflict as error:
            form.add_error("valid_from", error.message)
        else:
            messages.success(
                request,
                _("The %(currency)s rate from %(day)s is saved.")
                % {"currency": rate.currency, "day": rate.valid_from.isoformat()},
            )
            return redirect("finance:rates")
    status = 400 if form.is_bound else 200
    return render(request, "finance/rate_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def rate_edit(request: HttpRequest, rate_id: int) -> HttpResponse:
    rate = _rate_or_404(request, rate_id)
    form = ExchangeRateForm(request.POST or None, instance=rate)
    if request.method == "POST" and form.is_valid():
        try:
            exchange_rate_update(
                actor=actor(request),
                rate=rate,
                context=RequestContext.from_request(request),
                **form.cleaned_data,
            )
        except RateConflict as error:
            form.add_error("valid_from", error.message)
        else:
            messages.success(request, _("The exchange rate is updated."))
            return redirect("finance:rates")
    status = 400 if form.is_bound else 200
    return render(request, "finance/rate_form.html", {"form": form, "rate": rate}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def rate_delete(request: HttpRequest, rate_id: int) -> HttpResponse:
    rate = _rate_or_404(request, rate_id)
    if request.method == "POST":
        exchange_rate_delete(
            actor=actor(request), rate=rate, context=RequestContext.from_request(request)
        )
        messages.success(request, _("The exchange rate is deleted."))
        return redirect("finance:rates")
    return render(request, "finance/rate_delete.html", {"rate": rate})
