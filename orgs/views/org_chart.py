"""The org chart upload for platform admins: upload → preview (a dry run) → confirm → apply.

The confirm step re-posts the previewed YAML in a hidden field and parses it again; nothing
is kept on the server between the steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from orgs.audit import RequestContext
from orgs.errors import OrgError
from orgs.forms_org_chart import OrgChartConfirmForm, OrgChartUploadForm
from orgs.models import User
from orgs.org_chart import org_chart_apply
from orgs.permissions import can_import_org_chart

if TYPE_CHECKING:
    from django.forms import Form
    from django.utils.functional import _StrPromise

    from orgs.org_chart import ImportResult, OrgChart

MAX_CHANGES_SHOWN = 500

COUNT_LABELS: tuple[tuple[str, _StrPromise], ...] = (
    ("departments_created", gettext_lazy("Departments created")),
    ("departments_updated", gettext_lazy("Departments updated")),
    ("departments_moved", gettext_lazy("Departments moved")),
    ("users_created", gettext_lazy("Users created")),
    ("users_updated", gettext_lazy("Users updated")),
    ("users_moved", gettext_lazy("Users moved")),
    ("users_roles_changed", gettext_lazy("Users whose roles changed")),
    ("users_deactivated", gettext_lazy("Users deactivated")),
    ("users_reactivated", gettext_lazy("Users reactivated")),
)


def _platform_admin(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not can_import_org_chart(user):
        raise Http404
    return user


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def org_chart_import(request: HttpRequest) -> HttpResponse:
    actor = _platform_admin(request)
    if request.method == "GET":
        return _page(request, upload_form=OrgChartUploadForm())
    if request.POST.get("step") == "apply":
        return _apply(request, actor)
    return _preview(request, actor)


def _preview(request: HttpRequest, actor: User) -> HttpResponse:
    form = OrgChartUploadForm(request.POST, request.FILES)
    if not form.is_valid() or form.chart is None:
        return _page(request, upload_form=form)
    deactivate_missing = bool(form.cleaned_data["deactivate_missing"])
    result = _run(request, form, form.chart, actor, deactivate_missing, dry_run=True)
    if result is None:
        return _page(request, upload_form=form)
    confirm_form = OrgChartConfirmForm(
        initial={
            "text": form.text,
            "filename": form.filename,
            "deactivate_missing": deactivate_missing,
        }
    )
    return _page(request, result=result, confirm_form=confirm_form, filename=form.filename)


def _apply(request: HttpRequest, actor: User) -> HttpResponse:
    form = OrgChartConfirmForm(request.POST)
    if not form.is_valid() or form.chart is None:
        return _page(request, upload_form=OrgChartUploadForm(), confirm_errors=form)
    deactivate_missing = bool(form.cleaned_data["deactivate_missing"])
    result = _run(request, form, form.chart, actor, deactivate_missing, dry_run=False)
    if result is None:
        return _page(request, upload_form=OrgChartUploadForm(), confirm_errors=form)
    count = result.total_changes
    messages.success(
        request,
        ngettext(
            "The org chart was imported with %(count)d change.",
            "The org chart was imported with %(count)d changes.",
            count,
        )
        % {"count": count},
    )
    filename = form.cleaned_data["filename"]
    return _page(request, result=result, upload_form=OrgChartUploadForm(), filename=filename)


def _run(
    request: HttpRequest,
    form: Form,
    chart: OrgChart,
    actor: User,
    deactivate_missing: bool,
    *,
    dry_run: bool,
) -> ImportResult | None:
    """The import's result, or None with the error added to ``form``."""
    try:
        return org_chart_apply(
            chart,
            actor=actor,
            deactivate_missing=deactivate_missing,
            dry_run=dry_run,
            context=RequestContext.from_request(request),
        )
    except OrgError as exc:
        form.add_error(None, exc.message)
        return None


def _page(
    request: HttpRequest, *, result: ImportResult | None = None, **context: Any
) -> HttpResponse:
    if result is not None:
        counts = result.counts()
        context.update(
            result=result,
            counts=[(label, counts[name]) for name, label in COUNT_LABELS],
            changes=result.changes[:MAX_CHANGES_SHOWN],
            changes_not_shown=max(0, len(result.changes) - MAX_CHANGES_SHOWN),
        )
    return render(request, "orgs/org_chart_import.html", context)


urlpatterns: list[URLPattern] = [
    path("org-chart/import/", org_chart_import, name="org_chart_import"),
]
