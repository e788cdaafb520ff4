"""The department admin pages, with every persona."""

from __future__ import annotations

from django.test import Client

from orgs.models import AuditEvent, Role, User
from orgs.selectors import primary_membership
from tests.personas import Personas


def test_admin_sees_only_their_subtree_and_searches_in_korean(
    client: Client, personas: Personas
) -> None:
    client.force_login(personas.dept_admin)
    body = client.get("/org/members/").content.decode()
    assert "박지민" in body  # ENG-PLAT, inside the subtree
    assert "김민수" not in body  # HR
    assert "박지민" in client.get("/org/members/", {"q": "지민"}).content.decode()
    assert "박지민" not in client.get("/org/members/", {"q": "없는사람"}).content.decode()
    assert "member@acme.test" in client.get("/org/members/", {"q": "MEMBER@"}).content.decode()


def test_people_without_admin_rights_get_404(client: Client, personas: Personas) -> None:
    for user in (personas.member, personas.finance, personas.outsider):
        client.force_login(user)
        assert client.get("/org/members/").status_code == 404
        assert client.get(f"/org/members/{personas.member.pk}/").status_code == 404


def test_admin_cannot_touch_someone_outside_the_subtree(client: Client, personas: Personas) -> None:
    client.force_login(personas.dept_admin)
    assert client.get(f"/org/members/{personas.outsider.pk}/").status_code == 404
    response = client.post(f"/org/members/{personas.outsider.pk}/active/", {"active": "0"})
    assert response.status_code == 404
    personas.outsider.refresh_from_db()
    assert personas.outsider.is_active


def test_admin_moves_a_member_and_grants_dept_admin(client: Client, personas: Personas) -> None:
    client.force_login(personas.dept_admin)
    response = client.post(
        f"/org/members/{personas.member.pk}/",
        {
            "department": personas.eng.pk,
            "roles": [Role.MEMBER, Role.DEPT_ADMIN],
        },
    )
    assert response.status_code == 302
    membership = primary_membership(personas.member)
    assert membership is not None
    assert membership.department == personas.eng
    assert membership.roles == ["dept_admin", "member"]
    assert AuditEvent.objects.filter(action="membership.move", actor=personas.dept_admin).exists()


def test_admin_cannot_grant_finance_or_move_outside(client: Client, personas: Personas) -> None:
    client.force_login(personas.dept_admin)
    response = client.post(
        f"/org/members/{personas.member.pk}/",
        {
            "department": personas.eng_plat.pk,
            "roles": [Role.MEMBER, Role.FINANCE],
        },
        headers={"accept-language": "en"},
    )
    assert response.status_code == 200
    assert "You may not grant or remove the role finance." in response.content.decode()
    response = client.post(
        f"/org/members/{personas.member.pk}/",
        {
            "department": personas.hr.pk,
            "roles": [Role.MEMBER],
        },
    )
    assert response.status_code == 200
    membership = primary_membership(personas.member)
    assert membership is not None
    assert membership.department == personas.eng_plat


def test_deactivation_ends_the_session_at_the_next_request(personas: Personas) -> None:
    # given the member is signed in
    member_client, admin_client = Client(), Client()
    member_client.force_login(personas.member)
    assert member_client.get("/").status_code == 200
    # when their admin deactivates them
    admin_client.force_login(personas.dept_admin)
    admin_client.post(f"/org/members/{personas.member.pk}/active/", {"active": "0"})
    # then their next request is anonymous
    response = member_client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert User.objects.get(pk=personas.member.pk).deactivated_reason == "admin"


def test_admin_adds_a_member(client: Client, personas: Personas) -> None:
    client.force_login(personas.dept_admin)
    response = client.post(
        "/org/members/add/",
        {
            "email": "New@ACME.test",
            "name": "신입",
            "department": personas.eng_plat.pk,
            "roles": [Role.MEMBER],
        },
    )
    assert response.status_code == 302
    new = User.objects.get(email="new@acme.test")
    assert new.organization == personas.org
    membership = primary_membership(new)
    assert membership is not None
    assert membership.department == personas.eng_plat
    duplicate = client.post(
        "/org/members/add/",
        {
            "email": "new@acme.test",
            "name": "x",
            "department": personas.eng_plat.pk,
        },
        headers={"accept-language": "en"},
    )
    assert "already has an account" in duplicate.content.decode()
