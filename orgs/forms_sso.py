"""Inputs of the SSO administration pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from orgs.models import ClaimMappingRule, Role


class ClaimRuleForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ClaimMappingRule
        fields = ("position", "claim", "value", "action", "target", "is_enabled")

    def clean(self) -> dict[str, object]:
        cleaned: dict[str, object] = super().clean() or {}
        action = cleaned.get("action")
        target = str(cleaned.get("target") or "").strip()
        needs_target = {
            ClaimMappingRule.Action.SET_DEPARTMENT,
            ClaimMappingRule.Action.GRANT_ROLE,
            ClaimMappingRule.Action.ADD_GROUP,
        }
        if action in needs_target and not target:
            self.add_error("target", _("This action needs a target."))
        if action == ClaimMappingRule.Action.GRANT_ROLE and target not in Role.values:
            self.add_error(
                "target", _("Choose one of: %(roles)s") % {"roles": ", ".join(Role.values)}
            )
        cleaned["target"] = target
        return cleaned


class ClaimPreviewForm(forms.Form):
    token = forms.CharField(
        label=_("ID token or claims (JSON)"),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        max_length=100_000,
    )
