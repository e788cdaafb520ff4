"""Prompt templates: variables, filling, and who sees which."""

from __future__ import annotations

import pytest
from django.test import Client

from chatapp.models import PromptTemplate
from chatapp.templates_prompts import (
    prompt_template_create,
    prompt_template_list_for_user,
    template_fill,
    template_variables,
)
from tests.personas import Personas


def test_variables_in_order_korean_names_welcome() -> None:
    body = "{{고객명}}님께 {{ 제품 }} 안내 메일을 써줘. 다시 {{고객명}}"
    assert template_variables(body) == ["고객명", "제품"]
    assert template_fill(body, {"고객명": "김민수", "제품": "AI 플랫폼"}) == (
        "김민수님께 AI 플랫폼 안내 메일을 써줘. 다시 김민수"
    )


@pytest.mark.django_db
def test_visibility_follows_scope_and_the_department_tree(personas: Personas) -> None:
    private = prompt_template_create(
        owner=personas.dept_admin, title="내 것", body="x", scope="private"
    )
    department = prompt_template_create(
        owner=personas.dept_admin, title="개발본부용", body="y", scope="department"
    )
    everyone = prompt_template_create(
        owner=personas.platform_admin, title="전사", body="z", scope="organization"
    )
    assert department.department == personas.eng
    # the member of ENG-PLAT (under ENG) sees ENG's and the organization's, not the private one
    assert set(prompt_template_list_for_user(personas.member)) == {department, everyone}
    assert set(prompt_template_list_for_user(personas.outsider)) == {everyone}
    assert private in prompt_template_list_for_user(personas.dept_admin)


@pytest.mark.django_db
def test_only_platform_admins_share_org_wide_and_owners_delete(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.member)
    response = client.post("/chat/templates/", {"title": "t", "body": "b", "scope": "organization"})
    assert response.status_code == 200
    assert not PromptTemplate.objects.exists()
    client.post(
        "/chat/templates/", {"title": "회의록", "body": "{{주제}} 회의록", "scope": "department"}
    )
    template = PromptTemplate.objects.get()
    client.force_login(personas.outsider)
    assert client.post(f"/chat/templates/{template.pk}/delete/").status_code == 404
    client.force_login(personas.member)
    client.post(f"/chat/templates/{template.pk}/delete/")
    assert not PromptTemplate.objects.exists()
