"""The documents page: upload (drag and drop, several files, progress per file) and
the documents the user may read with their status. Uploads go through the contract-6
API from the page's script. Also: a cited passage, and the original file, each to its
readers only."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orgs.errors import AccessDenied
from orgs.models import User
from orgs.selectors import primary_membership
from rag.ingestion.parsers.ocr import ocr_available
from rag.models import Document
from rag.permissions import (
    access_document,
    access_passage,
    manageable_documents_filter,
    readable_documents_filter,
)
from rag.services import parse_limits


@login_required
@require_GET
def document_list(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    user = request.user
    documents = (
        Document.objects.filter(
            Q(readable_documents_filter(user)) | Q(manageable_documents_filter(user)),
            scope=Document.Scope.LIBRARY,
        )
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


@login_required
@require_GET
def passage_detail(request: HttpRequest, chunk_id: int) -> HttpResponse:
    """A cited passage, with its document's title, page and headings (404 unless the
    reader may read the document now)."""
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    try:
        chunk = access_passage(request.user, chunk_id)
    except AccessDenied:
        raise Http404 from None
    return render(request, "rag/passage.html", {"chunk": chunk, "document": chunk.document})


@login_required
@require_GET
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    """The original file, under its own (Korean) name, to a reader of the document."""
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    try:
        document = access_document(request.user, document_id)
    except AccessDenied:
        raise Http404 from None
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=document.filename,
        content_type=document.content_type or "application/octet-stream",
    )
