"""Thin page views of the project shell."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from chatapp.health import health_report


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
