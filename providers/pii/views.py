"""The PII policy pages: rules, the effective policy, and a "try it" check."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from orgs.audit import RequestContext
from orgs.errors import AccessDenied
from orgs.models import User
from orgs.permissions import managed_departments
from providers.pii.detect import count_kinds, find_pii, mask_pii
from providers.pii.errors import PiiPolicyError
from providers.pii.forms import PiiPolicyForm, PiiTryForm
from providers.pii.guard import kind_label
from providers.pii.models import PiiAction, PiiPolicy
from providers.pii.permissions import (
    access_pii_policy,
    can_manage_org_wide_pii,
    can_view_pii_policies,
)
from providers.pii.policy import policy_table
from providers.pii.selectors import (
    effective_policy_list,
    known_model_names,
    pii_policy_list_for_user,
)
from providers.pii.services import pii_policy_create, pii_policy_delete, pii_policy_update


def _viewer(request: HttpRequest) -> User:
    if not can_view_pii_policies(request.user):
        raise Http404
    assert isinstance(request.user, User)  # noqa: S101 - only users can view
    return request.user


def _policy_or_404(request: HttpRequest, policy_id: int) -> PiiPolicy:
    try:
        return access_pii_policy(request.user, policy_id)
    except AccessDenied:
        raise Http404 from None


def _policy_form(request: HttpRequest, user: User, policy: PiiPolicy | None) -> PiiPolicyForm:
    initial = {}
    if policy is not None:
        initial = {
            "department": policy.department,
            "model_name": policy.model_name,
            "action": policy.action,
        }
    return PiiPolicyForm(
        request.POST if request.method == "POST" else None,
        departments=managed_departments(user),
        allow_org_wide=can_manage_org_wide_pii(user),
        policy=policy,
        initial=initial,
    )


@login_required
@require_http_methods(["GET", "POST"])
def policies(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    form = _policy_form(request, user, None)
    if request.method == "POST" and form.is_valid():
        try:
            pii_policy_create(
                **form.cleaned_data, actor=user, context=RequestContext.from_request(request)
            )
        except PiiPolicyError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Rule added."))
            return redirect("pii:policies")
    org_wide = can_manage_org_wide_pii(user)
    table = policy_table()
    effective = effective_policy_list(
        table=table,
        departments=list(managed_departments(user).order_by("path")),
        include_no_department=org_wide,
    )
    return render(
        request,
        "pii/policies.html",
        {
            "rules": pii_policy_list_for_user(user),
            "effective": effective,
            "form": form,
            "model_names": known_model_names(),
            "org_wide": org_wide,
            "default_action_label": PiiAction(table.default_action).label,
            "try_form": PiiTryForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    user = _viewer(request)
    policy = _policy_or_404(request, policy_id)
    form = _policy_form(request, user, policy)
    if request.method == "POST" and form.is_valid():
        try:
            pii_policy_update(
                policy=policy,
                **form.cleaned_data,
                actor=user,
                context=RequestContext.from_request(request),
            )
        except PiiPolicyError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("pii:policies")
    return render(
        request,
        "pii/policy_edit.html",
        {"form": form, "policy": policy, "model_names": known_model_names()},
    )


@login_required
@require_POST
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    user = _viewer(request)
    policy = _policy_or_404(request, policy_id)
    pii_policy_delete(policy=policy, actor=user, context=RequestContext.from_request(request))
    messages.success(request, _("Rule deleted."))
    return redirect("pii:policies")


@sensitive_post_parameters("text")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def try_text(request: HttpRequest) -> HttpResponse:
    """Show what the guard finds in a pasted text and what the model would see.
    Nothing is stored or audited: the text exists only in this request."""
    _viewer(request)
    form = PiiTryForm(request.POST if request.method == "POST" else None)
    context: dict[str, object] = {"form": form}
    if request.method == "POST" and form.is_valid():
        text = form.cleaned_data["text"]
        findings = find_pii(text)
        context["checked"] = True
        context["found"] = [
            (kind_label(kind), count) for kind, count in count_kinds(findings).items()
        ]
        context["masked"] = mask_pii(text, findings)
    return render(request, "pii/try.html", context)
