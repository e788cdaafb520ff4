"""Claim mapping rules → decisions, and the dry run page."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from django.utils import translation

from orgs.models import ClaimMappingRule, Organization
from orgs.sso.claims import claims_from_extra_data, claims_from_mapping, claims_from_pasted_token
from orgs.sso.mapping import mapping_decide
from tests.personas import Personas

Action = ClaimMappingRule.Action


def rule(
    org: Organization, position: int, claim: str, value: str, action: str, target: str = ""
) -> ClaimMappingRule:
    return ClaimMappingRule.objects.create(
        organization=org, position=position, claim=claim, value=value, action=action, target=target
    )


@pytest.fixture
def rules(personas: Personas) -> list[ClaimMappingRule]:
    org = personas.org
    return [
        rule(org, 1, "groups", "ai-users", Action.REQUIRE),
        rule(org, 2, "department", "*", Action.DEPARTMENT_FROM_CLAIM),
        rule(org, 3, "groups", "eng-leads", Action.GRANT_ROLE, "dept_admin"),
        rule(org, 4, "groups", "*", Action.GROUP_FROM_CLAIM),
        rule(org, 5, "email_domain", "acme.test", Action.ADD_GROUP, "전사"),
    ]


def test_claims_merge_id_token_and_userinfo() -> None:
    claims = claims_from_extra_data(
        {"id_token": {"email": "Kim@ACME.test", "groups": ["a"]}, "userinfo": {"name": "김민수"}}
    )
    assert claims.email == "kim@acme.test"
    assert claims.name == "김민수"
    assert claims.get("groups") == ["a"]
    assert claims.get("email_domain") == ["acme.test"]


def test_rules_map_department_roles_and_groups(rules: list[ClaimMappingRule]) -> None:
    claims = claims_from_mapping(
        {
            "email": "lee@acme.test",
            "department": "ENG",
            "groups": ["ai-users", "eng-leads"],
        }
    )
    decision = mapping_decide(rules, claims)
    assert decision.allowed
    assert decision.department_code == "ENG"
    assert decision.roles == ["dept_admin", "member"]
    assert decision.groups == ["ai-users", "eng-leads", "전사"]


def test_missing_required_group_is_refused(rules: list[ClaimMappingRule]) -> None:
    claims = claims_from_mapping({"email": "x@acme.test", "department": "HR", "groups": ["other"]})
    with translation.override("en"):
        decision = mapping_decide(rules, claims)
    assert not decision.allowed
    assert "groups=ai-users" in decision.problem


def test_group_overage_is_refused_not_mapped(rules: list[ClaimMappingRule]) -> None:
    claims = claims_from_mapping(
        {
            "email": "big@acme.test",
            "department": "HR",
            "_claim_names": {"groups": "src1"},
            "_claim_sources": {
                "src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}
            },
        }
    )
    with translation.override("en"):
        decision = mapping_decide(rules, claims)
    assert not decision.allowed
    assert "overage" in decision.problem


def test_overage_does_not_matter_when_no_rule_uses_groups(personas: Personas) -> None:
    only_department = [rule(personas.org, 1, "department", "*", Action.DEPARTMENT_FROM_CLAIM)]
    claims = claims_from_mapping(
        {"email": "big@acme.test", "department": "HR", "_claim_names": {"groups": "s"}}
    )
    assert mapping_decide(only_department, claims).allowed


def test_disabled_rules_are_ignored(rules: list[ClaimMappingRule]) -> None:
    rules[0].is_enabled = False
    claims = claims_from_mapping({"email": "x@acme.test", "groups": []})
    assert mapping_decide(rules, claims).allowed


def test_pasted_token_and_json_are_read() -> None:
    payload = base64.urlsafe_b64encode(
        json.dumps({"email": "a@acme.test", "groups": ["g"]}).encode()
    ).rstrip(b"=")
    token = f"eyJhbGciOiJSUzI1NiJ9.{payload.decode()}.sig"
    assert claims_from_pasted_token(token).get("groups") == ["g"]
    assert claims_from_pasted_token('{"email": "b@acme.test"}').email == "b@acme.test"


def test_dry_run_page_shows_the_decision_and_writes_nothing(
    client: Client, personas: Personas, rules: list[ClaimMappingRule]
) -> None:
    # given
    client.force_login(personas.platform_admin)
    claims = {"email": "new@acme.test", "department": "ENG-PLAT", "groups": ["ai-users"]}
    # when
    response = client.post(
        "/org/sso/preview/", {"token": json.dumps(claims)}, headers={"accept-language": "en"}
    )
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "Access granted" in body
    assert "플랫폼팀 (ENG-PLAT)" in body
    from orgs.models import User

    assert not User.objects.filter(email="new@acme.test").exists()


def test_dry_run_reports_unknown_department(
    client: Client, personas: Personas, rules: list[ClaimMappingRule]
) -> None:
    client.force_login(personas.platform_admin)
    claims = {"email": "n@acme.test", "department": "NOPE", "groups": ["ai-users"]}
    response = client.post(
        "/org/sso/preview/", {"token": json.dumps(claims)}, headers={"accept-language": "en"}
    )
    assert "Unknown department code NOPE" in response.content.decode()


def test_rule_pages_are_for_platform_admins_only(client: Client, personas: Personas) -> None:
    for user in (personas.member, personas.dept_admin, personas.finance, personas.outsider):
        client.force_login(user)
        assert client.get("/org/sso/rules/").status_code == 404
        assert client.post("/org/sso/preview/", {"token": "{}"}).status_code == 404


def test_rule_changes_are_audited(client: Client, personas: Personas) -> None:
    from orgs.models import AuditEvent

    client.force_login(personas.platform_admin)
    response = client.post(
        "/org/sso/rules/",
        {
            "position": 1,
            "claim": "groups",
            "value": "ai-users",
            "action": "require",
            "target": "",
            "is_enabled": "on",
        },
    )
    assert response.status_code == 302
    created = ClaimMappingRule.objects.get()
    client.post(f"/org/sso/rules/{created.pk}/delete/")
    actions = list(
        AuditEvent.objects.filter(action__startswith="sso.").values_list("action", flat=True)
    )
    assert actions == ["sso.rule_delete", "sso.rule_create"]


def test_grant_role_rule_needs_a_real_role(client: Client, personas: Personas) -> None:
    client.force_login(personas.platform_admin)
    response = client.post(
        "/org/sso/rules/",
        {
            "position": 1,
            "claim": "groups",
            "value": "x",
            "action": "grant_role",
            "target": "king",
        },
    )
    assert response.status_code == 200
    assert not ClaimMappingRule.objects.exists()
