"""Department admins: the members of their departments (and subtrees)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from orgs.audit import RequestContext
from orgs.errors import AccessDenied, OrgError
from orgs.forms_members import MemberAddForm, MemberForm, MemberSearchForm
from orgs.models import User
from orgs.permissions import access_member, managed_departments
from orgs.selectors import department_subtree, member_list_for_departments, primary_membership
from orgs.services import member_add, membership_set_primary, user_deactivate, user_reactivate


def _actor(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    return request.user


def _member_or_404(request: HttpRequest, member_id: int) -> User:
    try:
        return access_member(request.user, member_id)
    except AccessDenied:
        raise Http404 from None


@login_required
def member_list(request: HttpRequest) -> HttpResponse:
    departments = managed_departments(request.user)
    if not departments.exists():
        raise Http404
    form = MemberSearchForm(request.GET or None, departments=departments)
    scope = departments
    search = ""
    include_inactive = False
    if form.is_valid():
        search = form.cleaned_data["q"].strip()
        include_inactive = form.cleaned_data["inactive"]
        if form.cleaned_data["department"] is not None:
            scope = department_subtree(form.cleaned_data["department"])
    members = member_list_for_departments(
        scope, search=search, include_inactive=include_inactive
    ).prefetch_related("memberships__department")
    page = Paginator(members, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "orgs/member_list.html",
        {
            "form": form,
            "page": page,
            "departments": departments,
            "search": search,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(request, member_id)
    actor = _actor(request)
    membership = primary_membership(member)
    current_roles = list(membership.roles) if membership else []
    form = MemberForm(
        request.POST or None,
        actor=actor,
        departments=managed_departments(actor),
        current_roles=current_roles,
        initial={
            "department": membership.department if membership else None,
            "roles": current_roles,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            membership_set_primary(
                user=member,
                department=form.cleaned_data["department"],
                roles=form.cleaned_data["roles"],
                actor=actor,
                context=RequestContext.from_request(request),
            )
        except OrgError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved."))
            return redirect("orgs:member_list")
    return render(
        request,
        "orgs/member_edit.html",
        {
            "member": member,
            "membership": membership,
            "form": form,
        },
    )


@login_required
@require_POST
def member_set_active(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member_or_404(request, member_id)
    context = RequestContext.from_request(request)
    if request.POST.get("active") == "1":
        user_reactivate(user=member, actor=_actor(request), context=context)
        messages.success(
            request, _("%(name)s can sign in again.") % {"name": member.get_full_name()}
        )
    else:
        user_deactivate(
            user=member, reason=User.Deactivation.ADMIN, actor=_actor(request), context=context
        )
        messages.success(
            request,
            _("%(name)s was deactivated and signed out everywhere.")
            % {"name": member.get_full_name()},
        )
    return redirect("orgs:member_edit", member_id=member.pk)


@login_required
@require_http_methods(["GET", "POST"])
def member_create(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    departments = managed_departments(actor)
    if not departments.exists():
        raise Http404
    form = MemberAddForm(request.POST or None, actor=actor, departments=departments)
    if request.method == "POST" and form.is_valid():
        try:
            member = member_add(
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                department=form.cleaned_data["department"],
                roles=form.cleaned_data["roles"],
                actor=actor,
                context=RequestContext.from_request(request),
            )
        except OrgError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("%(name)s was added.") % {"name": member.get_full_name()})
            return redirect("orgs:member_list")
    return render(request, "orgs/member_add.html", {"form": form})


urlpatterns: list[URLPattern] = [
    path("members/", member_list, name="member_list"),
    path("members/add/", member_create, name="member_add"),
    path("members/<int:member_id>/", member_edit, name="member_edit"),
    path("members/<int:member_id>/active/", member_set_active, name="member_set_active"),
]
