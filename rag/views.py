"""The documents page: upload (drag and drop, several files, progress per file) and
the documents the user may read with their status. Uploads go through the contract-6
API from the page's script; this view only lists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orgs.models import User
from orgs.selectors import primary_membership
from rag.ingestion.parsers.ocr import ocr_available
from rag.models import Document
from rag.permissions import readable_documents_filter
from rag.services import parse_limits


@login_required
@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    user = request.user
    documents = (
        Document.objects.filter(readable_documents_filter(user))
        .select_related("owner")
        .order_by("-created_at")[:200]
    )
    membership = primary_membership(user)
    limits = parse_limits()
    return render(
        request,
        "rag/documents.html",
        {
            "documents": documents,
            "department_code": membership.department.code if membership else "",
            "department_name": membership.department.name if membership else "",
            "max_bytes": limits.max_bytes,
            "max_mb": limits.max_bytes // (1024 * 1024),
            "max_pages": limits.max_pages,
            "ocr_available": limits.ocr_enabled and ocr_available(),
        },
    )
