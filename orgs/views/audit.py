"""The audit trail viewer and its CSV export, for platform admins only."""

from __future__ import annotations

import codecs
import csv
import json
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from orgs.csv_safe import csv_safe_cell
from orgs.forms import AuditFilterForm
from orgs.permissions import can_view_audit
from orgs.selectors import audit_event_batches, audit_event_list

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from django.http import HttpRequest, HttpResponse, HttpResponseBase

    from orgs.models import AuditEvent
    from orgs.selectors import AuditEventFilters

PAGE_SIZE = 50
EXPORT_BATCH_SIZE = 2000
# Stable column names: scripts and SIEM imports read them, whatever the UI language.
CSV_HEADER = (
    "seq",
    "time",
    "actor",
    "action",
    "target",
    "department",
    "ip",
    "user_agent",
    "details",
    "hash",
)


# Spreadsheets run a cell that starts like this as a formula; user agents and typed
# logins come from outside, so such cells get a leading apostrophe.
def _require_audit_viewer(request: HttpRequest) -> None:
    if not can_view_audit(request.user):
        raise Http404


@never_cache
@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    _require_audit_viewer(request)
    form = AuditFilterForm(request.GET)
    page = None
    if form.is_valid():
        page = Paginator(audit_event_list(form.filters()), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    return render(request, "orgs/audit_list.html", {"form": form, "page": page})


@never_cache
@login_required
@require_GET
def audit_export(request: HttpRequest) -> HttpResponseBase:
    _require_audit_viewer(request)
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(_("The filters are not valid."))
    # An async iterator: under ASGI a synchronous one would be read whole into
    # memory before the first byte is sent.
    response = StreamingHttpResponse(
        _csv_stream(form.filters()), content_type="text/csv; charset=utf-8"
    )
    filename = f"audit-{timezone.localtime():%Y%m%d-%H%M}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class _Line:
    """What csv.writer writes into: hands each formatted line straight back."""

    def write(self, line: str) -> str:
        return line


def _csv_row(event: AuditEvent) -> list[str]:
    target = event.target_repr or (
        f"{event.target_type}:{event.target_id}" if event.target_type else ""
    )
    return [
        str(event.seq),
        timezone.localtime(event.created_at).isoformat(),
        csv_safe_cell(event.actor_email),
        csv_safe_cell(event.action),
        csv_safe_cell(target),
        csv_safe_cell(event.department.code if event.department is not None else ""),
        event.ip or "",
        csv_safe_cell(event.user_agent),
        json.dumps(event.details, ensure_ascii=False, sort_keys=True),
        event.hash,
    ]


def _next_batch(batches: Iterator[list[AuditEvent]]) -> list[AuditEvent] | None:
    return next(batches, None)


async def _csv_stream(filters: AuditEventFilters) -> AsyncIterator[bytes]:
    """The export, one batch of rows per chunk. The UTF-8 BOM makes Excel read the
    file as UTF-8, so Korean names survive a double-click."""
    writer = csv.writer(_Line())
    yield codecs.BOM_UTF8 + writer.writerow(CSV_HEADER).encode()
    batches = audit_event_batches(filters, batch_size=EXPORT_BATCH_SIZE)
    # Thread-sensitive: every batch runs on the request's thread and connection.
    next_batch = sync_to_async(_next_batch)
    while (batch := await next_batch(batches)) is not None:
        yield "".join(writer.writerow(_csv_row(event)) for event in batch).encode()


urlpatterns: list[URLPattern] = [
    path("audit/", audit_list, name="audit_list"),
    path("audit/export.csv", audit_export, name="audit_export"),
]
