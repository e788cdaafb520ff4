"""Forms of the budgets pages; the choices offered are what the person may set."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from orgs.models import Department, User
from providers.budgets.models import Budget, Scope

MAX_LIMIT_USD = Decimal("10000000")


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_full_name()} <{obj.email}>"


class DepartmentChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


class BudgetForm(forms.Form):
    scope = forms.ChoiceField(label=_("Applies to"), choices=())
    department = DepartmentChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )
    user = PersonChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    period = forms.ChoiceField(label=_("Period"), choices=Budget.Period.choices)
    limit_usd = forms.DecimalField(
        label=_("Limit (USD)"),
        min_value=Decimal("0.01"),
        max_value=MAX_LIMIT_USD,
        decimal_places=4,
        max_digits=14,
    )
    enforcement = forms.ChoiceField(label=_("Enforcement"), choices=Budget.Enforcement.choices)
    webhook_url = forms.URLField(
        label=_("Alert webhook (optional)"),
        required=False,
        assume_scheme="https",
        help_text=_("Receives a JSON POST at 50, 80 and 100 percent of the budget."),
    )

    def __init__(
        self,
        *args: Any,
        departments: QuerySet[Department],
        people: QuerySet[User],
        organization_allowed: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            (Scope.DEPARTMENT.value, Scope.DEPARTMENT.label),
            (Scope.USER.value, _("person")),
        ]
        if organization_allowed:
            choices.append((Scope.ORGANIZATION.value, Scope.ORGANIZATION.label))
        self.fields["scope"].choices = choices  # type: ignore[attr-defined]
        self.fields["department"].queryset = departments.order_by("path")  # type: ignore[attr-defined]
        self.fields["user"].queryset = people.order_by("name", "email")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        if scope == Scope.DEPARTMENT and not data.get("department"):
            self.add_error("department", _("Choose the department this budget is for."))
        if scope == Scope.USER and not data.get("user"):
            self.add_error("user", _("Choose the person this budget is for."))
        return data


class BudgetEditForm(forms.Form):
    limit_usd = BudgetForm.base_fields["limit_usd"]
    enforcement = BudgetForm.base_fields["enforcement"]
    webhook_url = BudgetForm.base_fields["webhook_url"]


class RateLimitForm(forms.Form):
    department = DepartmentChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )
    user = PersonChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    rpm = forms.IntegerField(
        label=_("Requests per minute"), min_value=1, max_value=1_000_000, required=False
    )
    tpm = forms.IntegerField(
        label=_("Tokens per minute"), min_value=1, max_value=1_000_000_000, required=False
    )

    def __init__(
        self, *args: Any, departments: QuerySet[Department], people: QuerySet[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments.order_by("path")  # type: ignore[attr-defined]
        self.fields["user"].queryset = people.order_by("name", "email")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("department")) == bool(data.get("user")):
            raise forms.ValidationError(_("Choose either a department or a person."))
        return data
