"""Thin page views of the project shell."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from chatapp.health import health_report
from providers import gateway


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    failing = [name for name, state in report.checks.items() if state != "ok"]
    body: dict[str, object] = {
        "status": "ok" if report.ok else "unavailable",
        "checks": report.checks,
        "info": report.info,
    }
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=200 if report.ok else 503)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"models": gateway.models(mode="chat")})
