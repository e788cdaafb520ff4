"""A document's own page: its details and, for those who manage it (the owner, the
department admin, a platform admin), who may read it, a new version, deletion."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orgs.errors import AccessDenied
from orgs.models import User
from rag.errors import RagError
from rag.forms import DocumentAccessForm, upload_too_large
from rag.models import Document
from rag.permissions import (
    access_editable_document,
    access_managed_document,
    can_edit_document,
    can_manage_document,
    manageable_documents_filter,
    readable_documents_filter,
)
from rag.services import document_acl_get, document_acl_set, document_delete, document_replace
from rag.tasks import enqueue_ingestion


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    return request.user


def _managed_or_404(request: HttpRequest, document_id: int) -> Document:
    try:
        return access_managed_document(_user(request), document_id)
    except AccessDenied:
        raise Http404 from None


def _editable_or_404(request: HttpRequest, document_id: int) -> Document:
    try:
        return access_editable_document(_user(request), document_id)
    except AccessDenied:
        raise Http404 from None


@login_required
@require_GET
def document_page(request: HttpRequest, document_id: int) -> HttpResponse:
    user = _user(request)
    document = (
        Document.objects.filter(
            Q(readable_documents_filter(user)) | Q(manageable_documents_filter(user)),
            pk=document_id,
        )
        .select_related("owner", "organization")
        .first()
    )
    if document is None:
        raise Http404
    can_read = Document.objects.filter(readable_documents_filter(user), pk=document.pk).exists()
    context: dict[str, object] = {
        "document": document,
        "can_read": can_read,
        "can_edit": False,
        "can_manage": can_manage_document(user, document),
    }
    if can_edit_document(user, document):
        acl = document_acl_get(document)
        context.update(
            can_edit=True,
            acl=acl,
            form=DocumentAccessForm(
                initial=DocumentAccessForm.initial_from(acl), organization=document.organization
            ),
        )
    return render(request, "rag/document.html", context)


@login_required
@require_POST
def document_access(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _editable_or_404(request, document_id)
    form = DocumentAccessForm(request.POST, organization=document.organization)
    if not form.is_valid():
        messages.error(request, _("Check the sharing choices."))
    else:
        try:
            document_acl_set(document=document, acl=form.acl(), actor=_user(request))
        except RagError:
            # names that are not (or no longer) in the organization: typed e-mail addresses
            messages.error(
                request,
                _("Not saved: each e-mail address must be an active person of the organization."),
            )
        else:
            messages.success(request, _("Who may read it was saved."))
    return redirect("document", document_id=document.pk)


@login_required
@require_POST
def document_replace_view(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _editable_or_404(request, document_id)
    upload = request.FILES.get("file")
    too_large = upload_too_large(upload) if upload is not None else None
    if document.status in (Document.Status.QUEUED, Document.Status.PROCESSING):
        messages.error(request, _("The current version is still being read; try again after."))
    elif upload is None:
        messages.error(request, _("Choose the new version of the file."))
    elif too_large is not None:
        messages.error(request, too_large)
    else:
        document_replace(
            document=document,
            filename=upload.name or document.filename,
            data=upload.read(),
            content_type=upload.content_type or "",
            actor=_user(request),
        )
        enqueue_ingestion(document.pk)
        messages.success(request, _("The new version is being read; it replaces the old one."))
    return redirect("document", document_id=document.pk)


@login_required
@require_POST
def document_delete_view(request: HttpRequest, document_id: int) -> HttpResponse:
    document = _managed_or_404(request, document_id)
    title = document.title
    document_delete(document=document, actor=_user(request))
    messages.success(request, _("“%(title)s” was deleted.") % {"title": title})
    return redirect("documents")
