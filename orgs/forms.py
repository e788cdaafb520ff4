"""Typed inputs of the org layer's HTML views (R12)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orgs.models import Department
from orgs.selectors import AuditEventFilters, audit_action_list


class _DateInput(forms.DateInput):
    """The browser's date picker; it always sends and expects ISO dates."""

    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    """Filters of the audit viewer, read from the query string. Every field is optional."""

    actor = forms.CharField(
        label=_("Actor"),
        required=False,
        max_length=254,
        help_text=_("Part of a name or e-mail address"),
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("All departments"),
    )
    action = forms.ChoiceField(label=_("Action"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=_DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=_DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Choices are read per form, never at import (R8).
        department_field = self.fields["department"]
        assert isinstance(department_field, forms.ModelChoiceField)  # noqa: S101 - for mypy
        department_field.queryset = Department.objects.order_by("path")
        action_field = self.fields["action"]
        assert isinstance(action_field, forms.ChoiceField)  # noqa: S101 - for mypy
        action_field.choices = [
            ("", _("All actions")),
            *((action, action) for action in audit_action_list()),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            raise forms.ValidationError(
                _("The start of the period is after its end."), code="period_reversed"
            )
        return cleaned

    def filters(self) -> AuditEventFilters:
        """The cleaned filters. Call only after ``is_valid()`` returned True."""
        data = self.cleaned_data
        return AuditEventFilters(
            actor=data.get("actor") or "",
            department=data.get("department"),
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
