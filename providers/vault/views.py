"""Pages for registering one's own provider keys (thin: forms, permission getters,
services). A saved secret is never rendered again; only its last four characters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from orgs.audit import RequestContext
from orgs.errors import AccessDenied
from orgs.models import User
from orgs.permissions import access_department
from providers.vault.errors import VaultError
from providers.vault.forms import CredentialForm, secret_field_providers
from providers.vault.permissions import access_credential
from providers.vault.selectors import (
    credential_list_for_department,
    credential_list_for_user,
    department_list_with_key_counts,
)
from providers.vault.services import credential_create, credential_delete

if TYPE_CHECKING:
    from uuid import UUID

    from orgs.models import Department

SECRET_PARAMETERS = tuple(secret_field_providers())


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    return request.user


def _department_or_404(request: HttpRequest, department_id: int) -> Department:
    try:
        return access_department(request.user, department_id)
    except AccessDenied:
        raise Http404 from None


def _create_from(
    request: HttpRequest, form: CredentialForm, *, department: Department | None
) -> int | None:
    """Save a valid form's key and return None; on a vault error, put it on the form
    and return the HTTP status to answer with."""
    actor = _actor(request)
    try:
        credential = credential_create(
            owner_user=actor if department is None else None,
            owner_department=department,
            provider=form.cleaned_data["provider"],
            secrets=form.cleaned_data["secrets"],
            label=form.cleaned_data["label"],
            actor=actor,
            context=RequestContext.from_request(request),
        )
    except VaultError as exc:
        field = getattr(exc, "field", "")
        form.add_error(field if field in form.fields else None, exc.message)
        return exc.status
    messages.success(
        request,
        _("The key was saved. From now on it is shown only as …%(last4)s.")
        % {"last4": credential.last4},
    )
    return None


def _list_page(request: HttpRequest, *, department: Department | None) -> HttpResponse:
    """The keys of ``department`` (already access-checked), or the user's own when
    None, with the form that registers one."""
    actor = _actor(request)
    form = CredentialForm(request.POST or None)
    status: int | None = 200
    if request.method == "POST":
        status = _create_from(request, form, department=department) if form.is_valid() else 400
        if status is None:
            if department is None:
                return redirect("vault:list")
            return redirect("vault:department", department_id=department.pk)
    credentials = (
        credential_list_for_user(actor)
        if department is None
        else credential_list_for_department(department)
    )
    return render(
        request,
        "vault/credential_list.html",
        {
            "form": form,
            "credentials": credentials,
            "departments": department_list_with_key_counts(actor),
            "department": department,
        },
        status=status,
    )


@never_cache
@sensitive_post_parameters(*SECRET_PARAMETERS)
@login_required
@require_http_methods(["GET", "POST"])
def credential_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, department=None)


@never_cache
@sensitive_post_parameters(*SECRET_PARAMETERS)
@login_required
@require_http_methods(["GET", "POST"])
def department_credential_list(request: HttpRequest, department_id: int) -> HttpResponse:
    return _list_page(request, department=_department_or_404(request, department_id))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def credential_delete_view(request: HttpRequest, credential_id: UUID) -> HttpResponse:
    try:
        credential = access_credential(request.user, credential_id)
    except AccessDenied:
        raise Http404 from None
    department = credential.owner_department
    if request.method == "POST":
        credential_delete(
            credential=credential,
            actor=_actor(request),
            context=RequestContext.from_request(request),
        )
        messages.success(
            request, _("The key …%(last4)s was deleted.") % {"last4": credential.last4}
        )
        if department is not None:
            return redirect("vault:department", department_id=department.pk)
        return redirect("vault:list")
    return render(
        request,
        "vault/credential_delete.html",
        {"credential": credential, "department": department},
    )


urlpatterns: list[URLPattern] = [
    path("", credential_list, name="list"),
    path("departments/<int:department_id>/", department_credential_list, name="department"),
    path("<uuid:credential_id>/delete/", credential_delete_view, name="delete"),
]
