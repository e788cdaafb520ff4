"""The policy pages with every persona, and the "try it" form."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from orgs.models import AuditEvent
from providers.pii.models import PiiPolicy
from providers.pii.policy import policy_table

if TYPE_CHECKING:
    from django.test import Client

    from orgs.models import Department
    from tests.personas import Personas

pytestmark = pytest.mark.django_db
EN = {"accept-language": "en"}
TIMES = "\u00d7"


def rule(department: Department | None, model_name: str, action: str) -> PiiPolicy:
    return PiiPolicy.objects.create(department=department, model_name=model_name, action=action)


def test_people_without_admin_rights_get_404(client: Client, personas: Personas) -> None:
    policy = rule(personas.eng_plat, "", "mask")
    for user in (personas.member, personas.finance, personas.outsider):
        client.force_login(user)
        assert client.get("/pii/").status_code == 404
        response = client.post("/pii/", {"department": personas.eng.pk, "action": "allow"})
        assert response.status_code == 404
        assert client.get(f"/pii/{policy.pk}/").status_code == 404
        assert client.post(f"/pii/{policy.pk}/delete/").status_code == 404
        assert client.get("/pii/try/").status_code == 404
        assert client.post("/pii/try/", {"text": "010-1234-5678"}).status_code == 404
    assert PiiPolicy.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(client: Client, personas: Personas) -> None:
    response = client.get("/pii/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_platform_admin_sees_everything_and_sets_the_organisation_default(
    client: Client, personas: Personas
) -> None:
    rule(personas.hr, "", "block")
    client.force_login(personas.platform_admin)
    page = client.get("/pii/", headers=EN)
    assert page.status_code == 200
    body = page.content.decode()
    assert "인사팀" in body and "Callers without a department" in body
    response = client.post("/pii/", {"department": "", "model_name": "gpt-4o", "action": "block"})
    assert response.status_code == 302
    created = PiiPolicy.objects.get(department=None)
    assert (created.model_name, created.action) == ("gpt-4o", "block")
    assert created.created_by == personas.platform_admin
    event = AuditEvent.objects.get(action="pii_policy.create")
    assert event.actor == personas.platform_admin
    assert event.details == {
        "department_id": None,
        "department": None,
        "model_name": "gpt-4o",
        "action": "block",
    }
    assert policy_table().action_for(personas.fin.pk, "gpt-4o") == "block"


def test_platform_admin_edits_and_deletes_any_rule(client: Client, personas: Personas) -> None:
    policy = rule(personas.hr, "", "block")
    client.force_login(personas.platform_admin)
    assert client.get(f"/pii/{policy.pk}/").status_code == 200
    response = client.post(
        f"/pii/{policy.pk}/", {"department": personas.hr.pk, "model_name": "", "action": "mask"}
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.action == "mask" and policy.updated_by == personas.platform_admin
    update = AuditEvent.objects.get(action="pii_policy.update")
    assert update.details["before"]["action"] == "block"
    assert update.details["after"]["action"] == "mask"
    assert update.department == personas.hr
    assert client.post(f"/pii/{policy.pk}/delete/").status_code == 302
    assert not PiiPolicy.objects.exists()
    assert AuditEvent.objects.get(action="pii_policy.delete").details["department"] == "HR"


def test_dept_admin_manages_rules_in_their_subtree(client: Client, personas: Personas) -> None:
    client.force_login(personas.dept_admin)
    response = client.post(
        "/pii/", {"department": personas.eng_plat.pk, "model_name": " gpt-4o ", "action": "allow"}
    )
    assert response.status_code == 302
    policy = PiiPolicy.objects.get()
    assert (policy.department, policy.model_name) == (personas.eng_plat, "gpt-4o")
    assert AuditEvent.objects.get(action="pii_policy.create").actor == personas.dept_admin
    response = client.post(
        f"/pii/{policy.pk}/",
        {"department": personas.eng.pk, "model_name": "gpt-4o", "action": "block"},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.department, policy.action) == (personas.eng, "block")
    assert client.post(f"/pii/{policy.pk}/delete/").status_code == 302
    assert not PiiPolicy.objects.exists()


def test_dept_admin_cannot_reach_outside_the_subtree(client: Client, personas: Personas) -> None:
    hr_rule = rule(personas.hr, "", "allow")
    org_rule = rule(None, "", "block")
    client.force_login(personas.dept_admin)
    for target in (hr_rule, org_rule):
        assert client.get(f"/pii/{target.pk}/").status_code == 404
        assert client.post(f"/pii/{target.pk}/delete/").status_code == 404
        response = client.post(
            f"/pii/{target.pk}/",
            {"department": personas.eng.pk, "model_name": "", "action": "allow"},
        )
        assert response.status_code == 404
    response = client.post(
        "/pii/", {"department": personas.hr.pk, "model_name": "", "action": "allow"}, headers=EN
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = client.post("/pii/", {"department": "", "model_name": "", "action": "allow"})
    assert response.status_code == 200
    assert PiiPolicy.objects.count() == 2
    assert not AuditEvent.objects.filter(action__startswith="pii_policy.").exists()
    hr_rule.refresh_from_db()
    assert hr_rule.action == "allow"


def test_dept_admin_sees_inherited_rules_read_only_and_the_effective_policy(
    client: Client, personas: Personas
) -> None:
    org_rule = rule(None, "gpt-4o", "block")
    hr_rule = rule(personas.hr, "", "allow")
    own = rule(personas.eng_plat, "", "mask")
    client.force_login(personas.dept_admin)
    body = client.get("/pii/", headers=EN).content.decode()
    assert f'data-testid="pii-rule-{org_rule.pk}"' in body
    assert f'data-testid="pii-rule-{own.pk}"' in body
    assert f'data-testid="pii-rule-{hr_rule.pk}"' not in body
    assert f"/pii/{own.pk}/" in body and f"/pii/{org_rule.pk}/" not in body
    assert "inherited" in body
    effective = body.split('data-testid="pii-effective"')[1].split("</table>")[0]
    assert "개발본부" in effective and "플랫폼팀" in effective
    assert "인사팀" not in effective
    assert "(rule of 플랫폼팀)" in effective and "(organisation-wide rule)" in effective
    assert "Callers without a department" not in effective


def test_duplicate_rule_is_refused_with_a_message(client: Client, personas: Personas) -> None:
    rule(personas.eng, "gpt-4o", "mask")
    client.force_login(personas.dept_admin)
    response = client.post(
        "/pii/",
        {"department": personas.eng.pk, "model_name": "gpt-4o", "action": "block"},
        headers=EN,
    )
    assert response.status_code == 200
    assert "There is already a rule for this department and model" in response.content.decode()
    assert PiiPolicy.objects.count() == 1


def test_try_it_shows_kinds_and_masked_text_and_stores_nothing(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.dept_admin)
    events_before = AuditEvent.objects.count()
    text = "주민번호 900101-1234568 / 전화 010-1234-5678, 010-2222-3333 / 매출 1,234,567원"
    response = client.post("/pii/try/", {"text": text}, headers=EN)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.content.decode()
    result = body.split('data-testid="pii-try-result"')[1]
    assert f"resident registration number {TIMES}1" in result
    assert f"phone number {TIMES}2" in result
    masked = result.split('data-testid="pii-masked">')[1].split("</pre>")[0]
    assert masked == "주민번호 [주민등록번호] / 전화 [전화번호], [전화번호] / 매출 1,234,567원"
    assert AuditEvent.objects.count() == events_before
    assert not PiiPolicy.objects.exists()


def test_try_it_without_findings_and_with_too_much_text(client: Client, personas: Personas) -> None:
    client.force_login(personas.platform_admin)
    body = client.post("/pii/try/", {"text": "회의는 2024-10-15"}, headers=EN).content.decode()
    assert "No personal data found." in body
    response = client.post("/pii/try/", {"text": "가" * 20_001}, headers=EN)
    assert response.status_code == 200
    assert "pii-try-result" not in response.content.decode()
    assert "at most 20000 characters" in response.content.decode()


def test_korean_is_the_default_language(client: Client, personas: Personas) -> None:
    client.force_login(personas.platform_admin)
    response = client.get("/pii/")
    assert response.status_code == 200
    assert '<html lang="ko">' in response.content.decode()
