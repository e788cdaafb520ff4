"""The shared persona set for permission tests (R14).

ACME 주식회사:
    HR  인사팀                 ← outsider (member)
    ENG 개발본부               ← dept_admin (admin of ENG and so of ENG-PLAT)
      ENG-PLAT 플랫폼팀        ← member
    FIN 재무팀                 ← finance (reads usage of ENG's subtree)
    IT  IT지원팀               ← platform_admin
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from orgs.models import Department, Organization, Role, User
from orgs.services import department_create, membership_set_extra, membership_set_primary

PERSONA_PASSWORD = "persona-pass-1234"


@dataclass(frozen=True)
class Personas:
    org: Organization
    hr: Department
    eng: Department
    eng_plat: Department
    fin: Department
    it: Department
    member: User
    dept_admin: User
    finance: User
    platform_admin: User
    outsider: User


def build_personas() -> Personas:
    org = Organization.objects.create(slug="acme", name="ACME 주식회사")
    hr = department_create(organization=org, code="HR", name="인사팀", parent=None)
    eng = department_create(organization=org, code="ENG", name="개발본부", parent=None)
    eng_plat = department_create(organization=org, code="ENG-PLAT", name="플랫폼팀", parent=eng)
    fin = department_create(organization=org, code="FIN", name="재무팀", parent=None)
    it = department_create(organization=org, code="IT", name="IT지원팀", parent=None)

    def person(email: str, name: str, department: Department, roles: list[str]) -> User:
        user = User.objects.create_user(email, PERSONA_PASSWORD, name=name, organization=org)
        membership_set_primary(user=user, department=department, roles=roles)
        user.refresh_from_db()
        return user

    member = person("member@acme.test", "박지민", eng_plat, [Role.MEMBER])
    dept_admin = person("lead@acme.test", "이지은", eng, [Role.MEMBER, Role.DEPT_ADMIN])
    finance = person("finance@acme.test", "최재무", fin, [Role.MEMBER])
    membership_set_extra(user=finance, department=eng, roles=[Role.FINANCE])
    platform_admin = person("ops@acme.test", "정운영", it, [Role.PLATFORM_ADMIN])
    outsider = person("hr@acme.test", "김민수", hr, [Role.MEMBER])
    return Personas(
        org, hr, eng, eng_plat, fin, it, member, dept_admin, finance, platform_admin, outsider
    )


@pytest.fixture
def personas(db: None) -> Personas:
    return build_personas()
