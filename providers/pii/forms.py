"""Inputs of the PII policy pages (R12)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orgs.models import Department
from providers.pii.models import PiiAction, PiiPolicy

if TYPE_CHECKING:
    from django.db.models import QuerySet

TRY_MAX_CHARS = 20_000


class PiiPolicyForm(forms.Form):
    """One rule. ``departments``: those the user may give rules to;
    ``allow_org_wide``: whether "no department" (the whole organisation) is allowed."""

    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),  # set in __init__
        required=False,
        empty_label=_("Whole organisation"),
        help_text=_("The rule also applies to every department below it."),
    )
    model_name = forms.CharField(
        label=_("Model"),
        max_length=200,
        required=False,
        help_text=_("Leave empty for every external model."),
        widget=forms.TextInput(attrs={"list": "pii-model-names", "autocomplete": "off"}),
    )
    action = forms.ChoiceField(label=_("When found"), choices=PiiAction.choices)

    def __init__(
        self,
        *args: Any,
        departments: QuerySet[Department],
        allow_org_wide: bool,
        policy: PiiPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.allow_org_wide = allow_org_wide
        self.policy = policy
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared above
        field.queryset = departments.order_by("path")
        if not allow_org_wide:
            field.required = True
            field.empty_label = None

    def clean_model_name(self) -> str:
        return str(self.cleaned_data.get("model_name") or "").strip()

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        department = cleaned.get("department")
        if department is None and not self.allow_org_wide and "department" not in self.errors:
            self.add_error("department", _("Choose a department."))
        if self.errors:
            return cleaned
        taken = PiiPolicy.objects.filter(
            department=department, model_name=cleaned.get("model_name", "")
        )
        if self.policy is not None:
            taken = taken.exclude(pk=self.policy.pk)
        if taken.exists():
            self.add_error(
                None, _("There is already a rule for this department and model: edit that one.")
            )
        return cleaned


class PiiTryForm(forms.Form):
    """Text to check; it is neither stored nor logged."""

    text = forms.CharField(
        label=_("Text"),
        max_length=TRY_MAX_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )
