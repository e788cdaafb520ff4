"""Prompt templates: who sees which, their ``{{variables}}``, and filling them in."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, QuerySet

from chatapp.models import PromptTemplate
from orgs.selectors import department_ancestors, primary_membership

if TYPE_CHECKING:
    from orgs.models import User

VARIABLE = re.compile(r"\{\{\s*([^{}\n]{1,40}?)\s*\}\}")


def template_variables(body: str) -> list[str]:
    """The variable names in order of first appearance (Korean names welcome)."""
    seen: list[str] = []
    for name in VARIABLE.findall(body):
        if name not in seen:
            seen.append(name)
    return seen


def template_fill(body: str, values: dict[str, str]) -> str:
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def prompt_template_list_for_user(user: User) -> QuerySet[PromptTemplate]:
    """Own templates, those shared with the user's department or any department above it,
    and those shared with their whole organization."""
    visible = Q(owner=user)
    membership = primary_membership(user)
    if membership is not None:
        departments = [d.pk for d in department_ancestors(membership.department)]
        visible |= Q(scope=PromptTemplate.Scope.DEPARTMENT, department_id__in=departments)
    if user.organization_id:
        visible |= Q(scope=PromptTemplate.Scope.ORGANIZATION, organization_id=user.organization_id)
    return PromptTemplate.objects.filter(visible).order_by("title")


@transaction.atomic
def prompt_template_create(*, owner: User, title: str, body: str, scope: str) -> PromptTemplate:
    """Department sharing uses the owner's own department; organization sharing their
    organization (the form offers it to platform admins only)."""
    membership = primary_membership(owner)
    return PromptTemplate.objects.create(
        owner=owner,
        title=title,
        body=body,
        scope=scope,
        department=membership.department
        if scope == PromptTemplate.Scope.DEPARTMENT and membership
        else None,
        organization=owner.organization if scope == PromptTemplate.Scope.ORGANIZATION else None,
    )
