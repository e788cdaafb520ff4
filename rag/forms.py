"""Who may read a document, as a form: the contract-6 ACL with the organization's own
departments and groups to pick from."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orgs.models import Department, Group, Organization
from rag.services import AclSpec

_SEPARATORS = re.compile(r"[\s,;]+")


def upload_too_large(upload: UploadedFile[Any]) -> str | None:
    """The reader's message when an uploaded file is over the platform's limit."""
    limit = int(settings.RAG_MAX_UPLOAD_BYTES)
    if upload.size is None or upload.size <= limit:
        return None
    return gettext("The file is larger than %(max_mb)s MB.") % {"max_mb": limit // (1024 * 1024)}


class DocumentAccessForm(forms.Form):
    org_wide = forms.BooleanField(label=_("Everyone in the organization"), required=False)
    departments = forms.MultipleChoiceField(
        label=_("Departments"), required=False, widget=forms.CheckboxSelectMultiple
    )
    include_subdepartments = forms.BooleanField(
        label=_("and their sub-departments"), required=False
    )
    groups = forms.MultipleChoiceField(
        label=_("Groups"), required=False, widget=forms.CheckboxSelectMultiple
    )
    users = forms.CharField(
        label=_("People (e-mail addresses)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = Department.objects.filter(organization=organization, is_active=True)
        self.fields["departments"].choices = [  # type: ignore[attr-defined]
            (d.code, f"{d.name} ({d.code})") for d in departments.order_by("path")
        ]
        self.fields["groups"].choices = [  # type: ignore[attr-defined]
            (g.name, g.name) for g in Group.objects.filter(organization=organization)
        ]

    @staticmethod
    def initial_from(acl: AclSpec) -> dict[str, Any]:
        return {
            "org_wide": acl.org_wide,
            "departments": list(acl.departments),
            "include_subdepartments": acl.include_subdepartments,
            "groups": list(acl.groups),
            "users": "\n".join(acl.users),
        }

    def acl(self) -> AclSpec:
        data = self.cleaned_data
        return AclSpec(
            org_wide=bool(data["org_wide"]),
            departments=tuple(data["departments"]),
            include_subdepartments=bool(data["include_subdepartments"]),
            groups=tuple(data["groups"]),
            users=tuple(u.lower() for u in _SEPARATORS.split(data["users"]) if u),
        )
