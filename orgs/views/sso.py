"""Platform admins: claim mapping rules, a dry run against a pasted token, the sync log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from orgs.audit import RequestContext
from orgs.errors import OrgError
from orgs.forms_sso import ClaimPreviewForm, ClaimRuleForm
from orgs.models import ClaimMappingRule, Department, Organization, SsoSync, User
from orgs.permissions import can_manage_sso
from orgs.sso.claims import claims_from_pasted_token
from orgs.sso.mapping import mapping_decide
from orgs.sso.rules import claim_rule_create, claim_rule_delete, claim_rule_update
from orgs.sso.sync import sso_organization


def _organization_or_404(request: HttpRequest) -> Organization:
    assert isinstance(request.user, User)  # noqa: S101 - login_required ran first
    if not can_manage_sso(request.user):
        raise Http404
    organization = sso_organization()
    if organization is None:
        raise Http404(_("Import the org chart first (or set SSO_ORGANIZATION)."))
    return organization


@login_required
@require_http_methods(["GET", "POST"])
def sso_rules(request: HttpRequest) -> HttpResponse:
    organization = _organization_or_404(request)
    form = ClaimRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)  # noqa: S101
        claim_rule_create(
            organization=organization,
            actor=request.user,
            context=RequestContext.from_request(request),
            **form.cleaned_data,
        )
        messages.success(request, _("Rule added."))
        return redirect("orgs:sso_rules")
    rules = organization.claim_rules.all()
    return render(
        request,
        "orgs/sso_rules.html",
        {
            "organization": organization,
            "rules": rules,
            "form": form,
            "departments": Department.objects.filter(organization=organization),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def sso_rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    organization = _organization_or_404(request)
    rule = get_object_or_404(ClaimMappingRule, pk=rule_id, organization=organization)
    form = ClaimRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)  # noqa: S101
        claim_rule_update(
            rule=ClaimMappingRule.objects.get(pk=rule.pk),
            actor=request.user,
            context=RequestContext.from_request(request),
            **form.cleaned_data,
        )
        messages.success(request, _("Rule saved."))
        return redirect("orgs:sso_rules")
    return render(request, "orgs/sso_rule_edit.html", {"form": form, "rule": rule})


@login_required
@require_POST
def sso_rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    organization = _organization_or_404(request)
    rule = get_object_or_404(ClaimMappingRule, pk=rule_id, organization=organization)
    assert isinstance(request.user, User)  # noqa: S101
    claim_rule_delete(rule=rule, actor=request.user, context=RequestContext.from_request(request))
    messages.success(request, _("Rule deleted."))
    return redirect("orgs:sso_rules")


@login_required
@require_http_methods(["GET", "POST"])
def sso_preview(request: HttpRequest) -> HttpResponse:
    """Dry run: what the current rules would do with a pasted token. Writes nothing."""
    organization = _organization_or_404(request)
    form = ClaimPreviewForm(request.POST or None)
    context: dict[str, object] = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            claims = claims_from_pasted_token(form.cleaned_data["token"])
        except OrgError as exc:
            form.add_error("token", exc.message)
        else:
            rules = list(organization.claim_rules.all())
            decision = mapping_decide(rules, claims)
            department = None
            if decision.department_code:
                department = Department.objects.filter(
                    organization=organization, code=decision.department_code
                ).first()
            context.update(
                {
                    "claims": claims,
                    "decision": decision,
                    "department": department,
                    "unknown_department": bool(decision.department_code and department is None),
                    "existing_user": User.objects.filter(email=claims.email).first(),
                }
            )
    return render(request, "orgs/sso_preview.html", context)


@login_required
def sso_log(request: HttpRequest) -> HttpResponse:
    _organization_or_404(request)
    syncs = SsoSync.objects.select_related("user")
    email = request.GET.get("email", "").strip()
    if email:
        syncs = syncs.filter(email__icontains=email)
    return render(request, "orgs/sso_log.html", {"syncs": syncs[:200], "email": email})


urlpatterns: list[URLPattern] = [
    path("sso/rules/", sso_rules, name="sso_rules"),
    path("sso/rules/<int:rule_id>/", sso_rule_edit, name="sso_rule_edit"),
    path("sso/rules/<int:rule_id>/delete/", sso_rule_delete, name="sso_rule_delete"),
    path("sso/preview/", sso_preview, name="sso_preview"),
    path("sso/log/", sso_log, name="sso_log"),
]
