"""Inputs of the department admin pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orgs.models import Department, Role, User
from orgs.permissions import can_grant_role

if TYPE_CHECKING:
    from django.db.models import QuerySet


class MemberSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.none(), required=False
    )
    inactive = forms.BooleanField(label=_("Include deactivated"), required=False)

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]


class MemberForm(forms.Form):
    """Department and roles of one member, limited to what the acting admin may grant."""

    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self,
        *args: Any,
        actor: User,
        departments: QuerySet[Department],
        current_roles: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.current_roles = current_roles or []
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        department = cleaned.get("department")
        if department is None:
            return cleaned
        wanted = set(cleaned.get("roles") or []) | {Role.MEMBER.value}
        current = set(self.current_roles)
        for role in sorted(wanted ^ current):
            if role != Role.MEMBER and not can_grant_role(self.actor, role, department):
                self.add_error(
                    "roles", _("You may not grant or remove the role %(role)s.") % {"role": role}
                )
        cleaned["roles"] = sorted(wanted)
        return cleaned


class MemberAddForm(MemberForm):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), max_length=150)

    field_order = ("email", "name", "department", "roles")

    def clean_email(self) -> str:
        email = str(self.cleaned_data["email"]).strip().lower()
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError(
                _("This person already has an account; ask their department admin to move them.")
            )
        return email
