"""Contract 6: /api/rag/documents and /api/rag/search, with a bearer key or a session.

Thin views: authentication and input here, rules in services, the ACL in the
search SQL. Errors are JSON ``{"error": {"code", "message"}}`` with the status.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orgs.errors import AccessDenied
from orgs.models import User
from providers.runtime import get_runtime
from rag.errors import DocumentError, DuplicateDocument, RagError
from rag.models import Document
from rag.permissions import access_document
from rag.search import hybrid_search
from rag.services import acl_parse, document_create
from rag.tasks import enqueue_ingestion

MAX_K = 50


def error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)


def _csrf_checked(request: HttpRequest) -> HttpResponse:
    """Stands for the view in Django's CSRF check (the real views are exempt from the
    middleware because bearer callers need no token)."""
    return HttpResponse()


def api_user(request: HttpRequest) -> User | JsonResponse:
    """A bearer virtual key, else the session (which then needs its CSRF token)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        caller = get_runtime().caller_sync(header[7:].strip())
        user_id = caller.user_id if caller is not None else None
        user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
        if user is None:
            return error(401, "invalid_api_key", "Incorrect, revoked or expired API key")
        return user
    if request.user.is_authenticated and isinstance(request.user, User):
        if request.method == "POST":
            refused = CsrfViewMiddleware(_csrf_checked).process_view(request, _csrf_checked, (), {})
            if refused is not None:
                return error(403, "csrf_failed", "Missing or wrong CSRF token")
        return request.user
    return error(401, "unauthenticated", "Sign in or send 'Authorization: Bearer <key>'")


def document_json(document: Document) -> dict[str, Any]:
    return {
        "id": document.pk,
        "title": document.title,
        "status": document.status,
        "stage": document.stage,
        "progress": document.progress,
        "error": document.error,
        # the reason in the caller's language (Accept-Language, or the session's)
        "error_text": document.failure_text if document.status == "failed" else "",
    }


@csrf_exempt  # checked in api_user for session callers; bearer callers need none
@require_POST
def documents_create(request: HttpRequest) -> JsonResponse:
    user = api_user(request)
    if isinstance(user, JsonResponse):
        return user
    upload = request.FILES.get("file")
    if upload is None:
        return error(400, "file_required", "Send the document as multipart field 'file'")
    if upload.size is not None and upload.size > settings.RAG_MAX_UPLOAD_BYTES:
        return error(
            413, "too_large", f"The file is larger than {settings.RAG_MAX_UPLOAD_BYTES} bytes"
        )
    try:
        raw_acl = json.loads(request.POST["acl"]) if request.POST.get("acl") else None
        acl = acl_parse(raw_acl)
        document = document_create(
            owner=user,
            filename=upload.name or "document",
            data=upload.read(),
            title=request.POST.get("title", ""),
            acl=acl,
            content_type=upload.content_type or "",
        )
    except json.JSONDecodeError:
        return error(400, "acl_invalid", "'acl' is not valid JSON")
    except DuplicateDocument as exc:
        return error(409, exc.code, exc.message, document_id=exc.document_id)
    except (RagError, DocumentError) as exc:
        return error(400, exc.code, exc.message)
    enqueue_ingestion(document.pk)
    return JsonResponse(
        {"id": document.pk, "title": document.title, "status": document.status}, status=201
    )


@csrf_exempt
@require_GET
def documents_detail(request: HttpRequest, document_id: int) -> JsonResponse:
    user = api_user(request)
    if isinstance(user, JsonResponse):
        return user
    try:
        document = access_document(user, document_id)
    except AccessDenied:
        return error(404, "not_found", "No such document")
    return JsonResponse(document_json(document))


@csrf_exempt
@require_POST
def search(request: HttpRequest) -> JsonResponse:
    user = api_user(request)
    if isinstance(user, JsonResponse):
        return user
    try:
        body = json.loads(request.body or b"{}")
    except json.JSONDecodeError:
        return error(400, "invalid_json", "The body is not valid JSON")
    query = body.get("query") if isinstance(body, dict) else None
    k = body.get("k", 8) if isinstance(body, dict) else 8
    if not isinstance(query, str) or not query.strip():
        return error(400, "query_required", "'query' must be a non-empty string")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        return error(400, "invalid_k", f"'k' must be an integer from 1 to {MAX_K}")
    results = hybrid_search(user, query, k=k)
    return JsonResponse(
        {
            "results": [
                {
                    "document_id": r.document_id,
                    "title": r.title,
                    "text": r.text,
                    "score": r.score,
                    "page": r.page,
                }
                for r in results
            ]
        }
    )


urlpatterns = [
    path("documents", documents_create, name="rag_documents"),
    path("documents/<int:document_id>", documents_detail, name="rag_document"),
    path("search", search, name="rag_search"),
]
