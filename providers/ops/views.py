"""The operations page (platform admins) and the Prometheus endpoint (bearer token)."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from orgs.models import User
from orgs.permissions import is_platform_admin
from providers.ops.dashboard import dashboard_get
from providers.ops.exposition import CONTENT_TYPE
from providers.ops.exposition import render as render_metrics
from providers.ops.forms import OpsFilterForm
from providers.ops.metrics import metric_families
from providers.ops.selectors import model_group_names
from providers.ops.windows import WINDOWS

if TYPE_CHECKING:
    from django.http import HttpRequest


@never_cache
@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not isinstance(request.user, User) or not is_platform_admin(request.user):
        raise Http404
    now = timezone.now()
    longest = max(w.span for w in WINDOWS)
    form = OpsFilterForm(request.GET, models=model_group_names(start=now - longest, end=now))
    if not form.is_valid():
        return render(request, "ops/dashboard.html", {"form": form}, status=400)
    context = {"form": form, "board": dashboard_get(filters=form.filters(), now=now)}
    return render(request, "ops/dashboard.html", context)


def _bearer_matches(request: HttpRequest, token: str) -> bool:
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    # compare_digest takes as long whatever the first differing byte is.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. 404 while ``METRICS_TOKEN`` is unset (the feature is
    off), 401 without the right ``Authorization: Bearer <token>``."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    if not _bearer_matches(request, token):
        response = HttpResponse(
            _("A valid metrics token is required.") + "\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = render_metrics(metric_families(now=timezone.now()))
    return HttpResponse(body, content_type=CONTENT_TYPE)
