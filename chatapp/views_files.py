"""Attaching files to a conversation from its page (multipart upload, JSON answers in
the reader's language); their ingestion status is read through contract 6."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from chatapp.attachments import MAX_FILES, TooManyFiles, conversation_file_add
from chatapp.attachments import conversation_file_remove as file_remove
from chatapp.models import Conversation
from chatapp.permissions import access_conversation
from orgs.errors import AccessDenied
from rag.errors import DocumentError, RagError
from rag.forms import upload_too_large
from rag.models import Document


def _conversation_or_404(request: HttpRequest, conversation_id: int) -> Conversation:
    try:
        return access_conversation(request.user, conversation_id)
    except AccessDenied:
        raise Http404 from None


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def file_json(conversation: Conversation, document: Document) -> dict[str, object]:
    return {
        "id": document.pk,
        "title": document.title,
        "status": document.status,
        "status_label": document.get_status_display(),
        "progress": document.progress,
        "error": document.error,
        "status_url": reverse("rag_document", args=[document.pk]),
        "remove_url": reverse("chat:file_remove", args=[conversation.pk, document.pk]),
    }


@login_required
@require_POST
def conversation_file_upload(request: HttpRequest, conversation_id: int) -> JsonResponse:
    conversation = _conversation_or_404(request, conversation_id)
    upload = request.FILES.get("file")
    if upload is None:
        return _error(400, "file_required", _("Choose a file to attach."))
    too_large = upload_too_large(upload)
    if too_large is not None:
        return _error(413, "too_large", too_large)
    try:
        document, created = conversation_file_add(
            conversation,
            filename=upload.name or "file",
            data=upload.read(),
            content_type=upload.content_type or "",
        )
    except TooManyFiles:
        return _error(
            400,
            TooManyFiles.code,
            _("A conversation holds at most %(count)s files.") % {"count": MAX_FILES},
        )
    except (RagError, DocumentError):
        return _error(400, "not_attached", _("The file could not be attached."))
    return JsonResponse(file_json(conversation, document), status=201 if created else 200)


@login_required
@require_POST
def conversation_file_remove(
    request: HttpRequest, conversation_id: int, document_id: int
) -> JsonResponse:
    conversation = _conversation_or_404(request, conversation_id)
    if not file_remove(conversation, document_id):
        return _error(404, "not_found", _("No such file in this conversation."))
    return JsonResponse({"removed": document_id})
