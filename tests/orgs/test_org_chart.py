from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from orgs.models import AuditEvent, Department, DepartmentMove, Membership, Organization, User
from orgs.org_chart import OrgChartInvalid, org_chart_apply, org_chart_parse
from orgs.services import user_deactivate

SAMPLE = Path(__file__).resolve().parents[2] / "config" / "org_chart.sample.yaml"

CHART = """\
organization: {slug: acme, name: "ACME 주식회사"}
departments:
  - {code: HR, name: 인사팀}
  - {code: ENG, name: 개발본부}
  - {code: ENG-PLAT, name: 플랫폼팀, parent: ENG}
  - {code: ENG-PLAT-SRE, name: SRE팀, parent: ENG-PLAT}
  - {code: FIN, name: 재무팀}
users:
  - {email: kim@acme.test, name: 김민수, department: HR, roles: [member], password: "kim-pass-1234"}
  - {email: lee@acme.test, name: 이지은, department: ENG, roles: [dept_admin]}
  - {email: park@acme.test, name: 박지훈, department: ENG-PLAT-SRE}
  - {email: choi@acme.test, name: 최서연, department: FIN, finance_of: [ENG, HR]}
"""

HEAD = """\
organization: {slug: acme, name: ACME}
departments:
  - {code: HR, name: 인사팀}
users:
"""


def apply(text: str, *, deactivate_missing: bool = False, actor: User | None = None) -> int:
    chart = org_chart_parse(text, filename="org.yaml")
    return org_chart_apply(chart, actor=actor, deactivate_missing=deactivate_missing).total_changes


def table_counts() -> dict[str, int]:
    return {
        "organizations": Organization.objects.count(),
        "departments": Department.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "moves": DepartmentMove.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def department(code: str) -> Department:
    return Department.objects.get(code=code)


def roles_of(email: str) -> dict[str, list[str]]:
    return {
        m.department.code: sorted(m.roles)
        for m in Membership.objects.filter(user__email=email).select_related("department")
    }


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param("organization: {name: ACME}\n", 1, "organization has no slug", id="org-slug"),
        pytest.param(
            "departments: []\norganization:\n  slug: acme\n", 3, "has no name", id="org-name"
        ),
        pytest.param("users: []\n", 1, "organization is missing", id="no-organization"),
        pytest.param(
            HEAD.replace("users:\n", "  - {name: 개발본부}\n"),
            4,
            "department has no code",
            id="dept-code",
        ),
        pytest.param(
            HEAD.replace("users:\n", "  - {code: ENG}\n"),
            4,
            "department ENG has no name",
            id="dept-name",
        ),
        pytest.param(
            HEAD.replace("users:\n", "  - {code: HR, name: 인사부}\n"),
            4,
            "duplicate department code 'HR' (first on line 3)",
            id="dept-duplicate",
        ),
        pytest.param(
            HEAD.replace("users:\n", "  - code: ENG\n    name: 개발본부\n    parent: ENGX\n"),
            6,
            "department ENG: unknown parent 'ENGX'",
            id="dept-unknown-parent",
        ),
        pytest.param(
            HEAD.replace(
                "users:\n", "  - {code: A, name: a, parent: B}\n  - {code: B, name: b, parent: A}\n"
            ),
            4,
            "department A: parent cycle A → B → A",
            id="dept-cycle",
        ),
        pytest.param(
            HEAD + "  - {name: 김민수, department: HR}\n", 5, "user has no email", id="user-email"
        ),
        pytest.param(
            HEAD + "  - {email: kim@, name: 김민수, department: HR}\n",
            5,
            "'kim@' is not a valid e-mail address",
            id="user-invalid-email",
        ),
        pytest.param(
            HEAD
            + "  - {email: kim@acme.test, name: 김민수, department: HR}\n"
            + "  - {email: KIM@acme.test, name: 김민수2, department: HR}\n",
            6,
            "duplicate user e-mail 'kim@acme.test' (first on line 5)",
            id="user-duplicate-email",
        ),
        pytest.param(
            HEAD + "  - email: kim@acme.test\n    name: 김민수\n    department: ENG\n",
            7,
            "user kim@acme.test: unknown department 'ENG'",
            id="user-unknown-department",
        ),
        pytest.param(
            HEAD + "  - email: kim@acme.test\n    name: 김민수\n    department: HR\n"
            "    roles:\n      - member\n      - admin\n",
            10,
            "user kim@acme.test: unknown role 'admin'",
            id="user-unknown-role",
        ),
        pytest.param(
            HEAD + "  - email: kim@acme.test\n    name: 김민수\n    department: HR\n"
            "    password: 1234\n",
            8,
            "user kim@acme.test: password must be a string",
            id="user-password-not-string",
        ),
        pytest.param(
            HEAD + "  - {email: kim@acme.test, name: 김민수, department: HR, finance_of: [FIN]}\n",
            5,
            "unknown department 'FIN' in finance_of",
            id="user-unknown-finance-department",
        ),
        pytest.param(
            HEAD + "  - {email: kim@acme.test, nmae: x}\n",
            5,
            "unknown key 'nmae'",
            id="unknown-key",
        ),
        pytest.param("organization: {slug: acme\n", 2, "not valid YAML", id="not-yaml"),
    ],
)
def test_parse_reports_file_and_line(text: str, line: int, message: str) -> None:
    # when
    with pytest.raises(OrgChartInvalid) as caught:
        org_chart_parse(text, filename="org.yaml")
    # then
    assert caught.value.location == f"org.yaml:{line}"
    assert any(
        p.location == f"org.yaml:{line}" and message in p.message for p in caught.value.problems
    ), caught.value.message


def test_parse_reports_every_problem_in_file_order() -> None:
    # given
    text = HEAD + "  - {email: kim@acme.test, department: XX, roles: [boss]}\n  - {name: 이지은}\n"
    # when
    with pytest.raises(OrgChartInvalid) as caught:
        org_chart_parse(text, filename="org.yaml")
    # then
    assert caught.value.message.splitlines() == [
        "org.yaml:5: user kim@acme.test has no name",
        "org.yaml:5: user kim@acme.test: unknown department 'XX'",
        "org.yaml:5: user kim@acme.test: unknown role 'boss' "
        "(roles: dept_admin, finance, member, platform_admin)",
        "org.yaml:6: user has no email",
        "org.yaml:6: user has no department",
    ]


def test_parse_reads_codes_as_written_and_orders_parents_first() -> None:
    # given a child listed before its parent, and codes YAML would turn into a number or a bool
    text = (
        "organization: {slug: acme, name: ACME}\n"
        "departments:\n"
        "  - {code: 100, name: 하위팀, parent: NO}\n"
        "  - {code: NO, name: 노르웨이지사}\n"
    )
    # when
    chart = org_chart_parse(text, filename="org.yaml")
    # then
    assert [(d.code, d.parent) for d in chart.departments] == [("NO", None), ("100", "NO")]


@pytest.mark.django_db
def test_apply_creates_the_tree_users_and_roles() -> None:
    # when
    apply(CHART)
    # then
    eng, plat, sre = department("ENG"), department("ENG-PLAT"), department("ENG-PLAT-SRE")
    assert eng.path == f"/{eng.pk}/"
    assert plat.path == f"/{eng.pk}/{plat.pk}/"
    assert sre.path == f"/{eng.pk}/{plat.pk}/{sre.pk}/"
    assert Organization.objects.get().name == "ACME 주식회사"
    assert roles_of("lee@acme.test") == {"ENG": ["dept_admin", "member"]}
    assert roles_of("choi@acme.test") == {"FIN": ["member"], "ENG": ["finance"], "HR": ["finance"]}
    assert User.objects.get(email="park@acme.test").name == "박지훈"
    assert authenticate(email="kim@acme.test", password="kim-pass-1234") is not None
    assert not User.objects.get(email="lee@acme.test").has_usable_password()
    assert AuditEvent.objects.filter(action="org_chart.import").count() == 1


@pytest.mark.django_db
def test_reapplying_changes_nothing_and_keeps_changed_passwords() -> None:
    # given an imported chart, and a user who then changed their password
    apply(CHART)
    ids = sorted(Membership.objects.values_list("id", "user_id", "department_id"))
    kim = User.objects.get(email="kim@acme.test")
    kim.set_password("changed-by-kim-99")
    kim.save()
    before = table_counts()
    # when
    result = org_chart_apply(
        org_chart_parse(CHART, filename="org.yaml"), actor=None, deactivate_missing=True
    )
    # then
    assert result.total_changes == 0
    assert result.changes == []
    assert sorted(Membership.objects.values_list("id", "user_id", "department_id")) == ids
    assert table_counts() == {**before, "audit": before["audit"] + 1}  # the import event only
    assert authenticate(email="kim@acme.test", password="changed-by-kim-99") is not None


@pytest.mark.django_db
def test_moving_a_department_and_a_user_through_the_file() -> None:
    # given
    apply(CHART)
    plat_id = department("ENG-PLAT").pk
    changed = CHART.replace(
        "{code: ENG-PLAT, name: 플랫폼팀, parent: ENG}",
        "{code: ENG-PLAT, name: 플랫폼팀, parent: HR}",
    ).replace("name: 김민수, department: HR", "name: 김민수, department: ENG-PLAT")
    # when
    result = org_chart_apply(
        org_chart_parse(changed, filename="org.yaml"), actor=None, deactivate_missing=False
    )
    # then
    hr, plat, sre = department("HR"), department("ENG-PLAT"), department("ENG-PLAT-SRE")
    assert (result.departments_moved, result.users_moved, result.total_changes) == (1, 1, 2)
    assert plat.pk == plat_id and plat.parent == hr
    assert plat.path == f"/{hr.pk}/{plat.pk}/"
    assert sre.path == f"/{hr.pk}/{plat.pk}/{sre.pk}/"
    move = DepartmentMove.objects.get(department=plat)
    assert (move.old_parent, move.new_parent) == (department("ENG"), hr)
    assert roles_of("kim@acme.test") == {"ENG-PLAT": ["member"]}
    assert "user kim@acme.test: moved from HR to ENG-PLAT" in result.changes


@pytest.mark.django_db
def test_swapping_parent_and_child_departments() -> None:
    # given ENG-PLAT under ENG
    apply(CHART)
    swapped = CHART.replace("  - {code: ENG, name: 개발본부}\n", "").replace(
        "{code: ENG-PLAT, name: 플랫폼팀, parent: ENG}",
        "{code: ENG-PLAT, name: 플랫폼팀}\n  - {code: ENG, name: 개발본부, parent: ENG-PLAT}",
    )
    # when
    apply(swapped)
    # then
    eng, plat, sre = department("ENG"), department("ENG-PLAT"), department("ENG-PLAT-SRE")
    assert plat.path == f"/{plat.pk}/"
    assert eng.path == f"/{plat.pk}/{eng.pk}/"
    assert sre.path == f"/{plat.pk}/{sre.pk}/"


@pytest.mark.django_db
def test_role_and_name_changes() -> None:
    # given
    apply(CHART)
    changed = (
        CHART.replace("roles: [dept_admin]", "roles: [member]")
        .replace("finance_of: [ENG, HR]", "finance_of: [HR], admin_of: [HR]")
        .replace("name: 박지훈", "name: 박지훈2, roles: [platform_admin]")
        .replace("{code: FIN, name: 재무팀}", "{code: FIN, name: 재무본부}")
    )
    # when
    result = org_chart_apply(
        org_chart_parse(changed, filename="org.yaml"), actor=None, deactivate_missing=False
    )
    # then
    assert result.users_roles_changed == 3
    assert (result.users_updated, result.departments_updated) == (1, 1)
    assert roles_of("lee@acme.test") == {"ENG": ["member"]}
    assert roles_of("choi@acme.test") == {"FIN": ["member"], "HR": ["dept_admin", "finance"]}
    park = User.objects.get(email="park@acme.test")
    assert park.name == "박지훈2" and park.is_superuser and park.is_staff
    assert department("FIN").name == "재무본부"
    assert "user lee@acme.test: roles dept_admin, member → member" in result.changes


@pytest.mark.django_db
def test_deactivate_missing_and_reactivate_when_back(user_factory: Callable[..., User]) -> None:
    # given an imported chart, a bootstrap admin, the actor and someone an admin deactivated
    apply(CHART)
    org = Organization.objects.get()
    bootstrap = User.objects.create_superuser("root@acme.test", "root-pass-1234", organization=org)
    actor = user_factory(email="actor@acme.test", organization=org)
    held = user_factory(email="held@acme.test", organization=org)
    user_deactivate(user=held, reason=User.Deactivation.ADMIN)
    without_kim = "".join(line for line in CHART.splitlines(True) if "kim@" not in line)
    # when kim is left out, without and then with --deactivate-missing
    kept = org_chart_apply(
        org_chart_parse(without_kim, filename="org.yaml"), actor=actor, deactivate_missing=False
    )
    removed = org_chart_apply(
        org_chart_parse(without_kim, filename="org.yaml"), actor=actor, deactivate_missing=True
    )
    # then
    assert kept.users_deactivated == 0
    assert removed.users_deactivated == 1
    kim = User.objects.get(email="kim@acme.test")
    assert not kim.is_active and kim.deactivated_reason == User.Deactivation.ORG_CHART
    assert User.objects.get(pk=actor.pk).is_active
    assert User.objects.get(pk=bootstrap.pk).is_active
    assert User.objects.get(pk=held.pk).deactivated_reason == User.Deactivation.ADMIN
    # when kim comes back
    back = org_chart_apply(
        org_chart_parse(CHART, filename="org.yaml"), actor=actor, deactivate_missing=True
    )
    # then
    assert back.users_reactivated == 1 and back.users_deactivated == 0
    kim.refresh_from_db()
    assert kim.is_active and kim.deactivated_reason == ""


@pytest.mark.django_db
def test_departments_not_in_file_are_left_alone() -> None:
    # given
    apply(CHART)
    without_fin = CHART.replace("  - {code: FIN, name: 재무팀}\n", "").replace(
        "department: FIN, finance_of: [ENG, HR]", "department: HR, finance_of: [ENG]"
    )
    # when
    result = org_chart_apply(
        org_chart_parse(without_fin, filename="org.yaml"), actor=None, deactivate_missing=False
    )
    # then
    assert result.departments_not_in_file == ["FIN"]
    assert department("FIN").is_active
    assert roles_of("choi@acme.test") == {"HR": ["member"], "ENG": ["finance"]}


@pytest.mark.django_db
def test_dry_run_changes_nothing_but_reports_the_changes() -> None:
    # given
    before = table_counts()
    # when
    result = org_chart_apply(
        org_chart_parse(CHART, filename="org.yaml"),
        actor=None,
        deactivate_missing=False,
        dry_run=True,
    )
    # then
    assert result.dry_run and result.departments_created == 5 and result.users_created == 4
    assert "department ENG-PLAT 플랫폼팀: created under ENG" in result.changes
    assert table_counts() == before


@pytest.mark.django_db
def test_the_sample_file_imports(capsys: pytest.CaptureFixture[str]) -> None:
    # when
    call_command("import_org_chart", str(SAMPLE))
    call_command("import_org_chart", str(SAMPLE))
    # then
    output = capsys.readouterr().out
    assert "Departments: 4 created, 0 updated, 0 moved." in output
    assert "Users: 4 created," in output
    assert "Users: 0 created, 0 updated, 0 moved, 0 roles changed" in output
    assert roles_of("choi@acme.test") == {"FIN": ["member"], "ENG": ["finance"], "HR": ["finance"]}
    assert roles_of("park@acme.test") == {"ENG-PLAT": ["member"]}
    assert authenticate(email="lee@acme.test", password="dev-only-lee-1234") is not None


@pytest.mark.django_db
def test_command_dry_run_changes_nothing(tmp_path: Path) -> None:
    # given
    path = tmp_path / "org.yaml"
    path.write_text(CHART, encoding="utf-8")
    before = table_counts()
    out = StringIO()
    # when
    call_command("import_org_chart", str(path), "--dry-run", "--deactivate-missing", stdout=out)
    # then
    assert "Dry run" in out.getvalue()
    assert "user park@acme.test 박지훈: created in ENG-PLAT-SRE (member)" in out.getvalue()
    assert table_counts() == before


@pytest.mark.django_db
def test_command_on_a_malformed_file_names_file_and_line_and_changes_nothing(
    tmp_path: Path,
) -> None:
    # given an imported chart, then a file with one broken user at its end
    apply(CHART)
    path = tmp_path / "broken.yaml"
    path.write_text(
        CHART.replace("ENG-PLAT, name: 플랫폼팀", "ENG-PLAT, name: 플랫폼2팀")
        + "  - {email: jung@acme.test, name: 정하나, department: SALES}\n",
        encoding="utf-8",
    )
    before = table_counts()
    # when
    with pytest.raises(CommandError) as caught:
        call_command("import_org_chart", str(path))
    # then
    assert str(caught.value) == f"{path}:13: user jung@acme.test: unknown department 'SALES'"
    assert caught.value.returncode == 1
    assert table_counts() == before
    assert department("ENG-PLAT").name == "플랫폼팀"


@pytest.mark.django_db
def test_command_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"nowhere\.yaml: No such file"):
        call_command("import_org_chart", str(tmp_path / "nowhere.yaml"))
