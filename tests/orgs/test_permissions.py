"""Every permission rule, for every persona."""

from __future__ import annotations

import pytest

from orgs import permissions as p
from orgs.errors import AccessDenied
from orgs.models import Role
from tests.personas import Personas


def codes(queryset: object) -> set[str]:
    return {d.code for d in queryset}  # type: ignore[attr-defined]


def test_managed_departments_per_persona(personas: Personas) -> None:
    assert codes(p.managed_departments(personas.dept_admin)) == {"ENG", "ENG-PLAT"}
    assert codes(p.managed_departments(personas.platform_admin)) == {
        "HR",
        "ENG",
        "ENG-PLAT",
        "FIN",
        "IT",
    }
    assert codes(p.managed_departments(personas.member)) == set()
    assert codes(p.managed_departments(personas.finance)) == set()
    assert codes(p.managed_departments(personas.outsider)) == set()


def test_usage_departments_per_persona(personas: Personas) -> None:
    assert codes(p.usage_departments(personas.finance)) == {"ENG", "ENG-PLAT"}
    assert codes(p.usage_departments(personas.dept_admin)) == {"ENG", "ENG-PLAT"}
    assert codes(p.usage_departments(personas.member)) == set()
    assert codes(p.usage_departments(personas.outsider)) == set()
    assert p.can_read_usage(personas.finance, personas.eng_plat)
    assert not p.can_read_usage(personas.finance, personas.hr)


def test_access_department_hides_what_is_not_yours(personas: Personas) -> None:
    assert p.access_department(personas.dept_admin, personas.eng_plat.pk) == personas.eng_plat
    for user in (personas.member, personas.finance, personas.outsider):
        with pytest.raises(AccessDenied):
            p.access_department(user, personas.eng.pk)
    with pytest.raises(AccessDenied):
        p.access_department(personas.dept_admin, personas.hr.pk)
    with pytest.raises(AccessDenied):
        p.access_department(personas.dept_admin, "not-a-number")


def test_member_management_stays_inside_the_subtree(personas: Personas) -> None:
    assert p.can_manage_member(personas.dept_admin, personas.member)
    assert not p.can_manage_member(personas.dept_admin, personas.outsider)
    assert not p.can_manage_member(personas.dept_admin, personas.dept_admin)
    assert not p.can_manage_member(personas.dept_admin, personas.platform_admin)
    assert not p.can_manage_member(personas.member, personas.member)
    assert not p.can_manage_member(personas.outsider, personas.member)
    assert p.can_manage_member(personas.platform_admin, personas.outsider)
    assert p.access_member(personas.dept_admin, personas.member.pk) == personas.member
    with pytest.raises(AccessDenied):
        p.access_member(personas.dept_admin, personas.outsider.pk)


def test_role_grants(personas: Personas) -> None:
    assert p.can_grant_role(personas.dept_admin, Role.DEPT_ADMIN, personas.eng_plat)
    assert not p.can_grant_role(personas.dept_admin, Role.DEPT_ADMIN, personas.hr)
    assert not p.can_grant_role(personas.dept_admin, Role.FINANCE, personas.eng_plat)
    assert not p.can_grant_role(personas.dept_admin, Role.PLATFORM_ADMIN, personas.eng)
    assert p.can_grant_role(personas.platform_admin, Role.FINANCE, personas.hr)
    assert not p.can_grant_role(personas.member, Role.MEMBER, personas.eng_plat)


def test_platform_only_rights(personas: Personas) -> None:
    for check in (p.can_view_audit, p.can_import_org_chart, p.can_manage_sso):
        assert check(personas.platform_admin)
        for user in (personas.member, personas.dept_admin, personas.finance, personas.outsider):
            assert not check(user)


def test_deactivated_admin_loses_every_right(personas: Personas) -> None:
    from orgs.services import user_deactivate

    user_deactivate(user=personas.dept_admin, reason="admin")
    assert codes(p.managed_departments(personas.dept_admin)) == set()
    assert not p.can_manage_member(personas.dept_admin, personas.member)


def test_moving_a_department_moves_its_subtree(personas: Personas) -> None:
    from orgs.services import department_move

    # when ENG-PLAT moves under HR
    department_move(department=personas.eng_plat, new_parent=personas.hr)
    # then ENG's admin no longer manages it or its people, and history is kept
    assert codes(p.managed_departments(personas.dept_admin)) == {"ENG"}
    assert not p.can_manage_member(personas.dept_admin, personas.member)
    assert personas.eng_plat.moves.get().old_parent == personas.eng
