from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from orgs.forms_org_chart import MAX_UPLOAD_BYTES
from orgs.models import AuditEvent, Department, Membership, User
from tests.personas import Personas

URL = reverse("orgs:org_chart_import")

# The persona organization plus a SALES department with one new member.
CHART = """\
organization: {slug: acme, name: "ACME 주식회사"}
departments:
  - {code: HR, name: 인사팀}
  - {code: ENG, name: 개발본부}
  - {code: ENG-PLAT, name: 플랫폼팀, parent: ENG}
  - {code: SALES, name: 영업팀}
users:
  - {email: jung@acme.test, name: 정하나, department: SALES, roles: [dept_admin]}
"""


@pytest.fixture(autouse=True)
def english(client: Client) -> None:
    """Assertions below read the English texts, whatever the translations say."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def upload(text: str, name: str = "org.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/yaml")


def table_counts() -> tuple[int, int, int, int]:
    return (
        Department.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )


def test_platform_admin_sees_the_upload_form(client: Client, personas: Personas) -> None:
    # given
    client.force_login(personas.platform_admin)
    # when
    response = client.get(URL)
    # then
    assert response.status_code == 200
    assert 'data-testid="org-chart-upload"' in response.content.decode()
    assert response["Cache-Control"].startswith("max-age=0")


def test_platform_admin_previews_then_confirms(client: Client, personas: Personas) -> None:
    # given
    client.force_login(personas.platform_admin)
    before = table_counts()
    # when the file is uploaded
    preview = client.post(URL, {"step": "preview", "file": upload(CHART)})
    # then the changes are shown and nothing is changed yet
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "department SALES 영업팀: created" in page
    assert "user jung@acme.test 정하나: created in SALES (dept_admin, member)" in page
    assert "department FIN 재무팀: not in file, left as is" in page
    assert 'data-testid="org-chart-confirm"' in page
    assert table_counts() == before
    # when the previewed file is confirmed
    carried = preview.context["confirm_form"].initial
    applied = client.post(URL, {"step": "apply", **carried})
    # then it is applied, with a success message
    assert applied.status_code == 200
    sales = Department.objects.get(code="SALES")
    jung = User.objects.get(email="jung@acme.test")
    assert Membership.objects.get(user=jung).department == sales
    assert [str(m) for m in applied.context["messages"]] == [
        "The org chart was imported with 2 changes."
    ]
    event = AuditEvent.objects.get(action="org_chart.import")
    assert event.actor == personas.platform_admin
    assert event.details["users_created"] == 1 and event.details["file"] == "org.yaml"
    assert User.objects.get(pk=personas.member.pk).is_active


def test_confirm_with_deactivate_missing_spares_the_admin(
    client: Client, personas: Personas
) -> None:
    # given
    client.force_login(personas.platform_admin)
    preview = client.post(
        URL, {"step": "preview", "file": upload(CHART), "deactivate_missing": "on"}
    )
    assert "user member@acme.test: deactivated (not in file)" in preview.content.decode()
    # when
    client.post(URL, {"step": "apply", **preview.context["confirm_form"].initial})
    # then
    assert not User.objects.get(pk=personas.member.pk).is_active
    assert User.objects.get(pk=personas.platform_admin.pk).is_active


def test_reimporting_the_same_file_offers_nothing_to_confirm(
    client: Client, personas: Personas
) -> None:
    # given the file already applied
    client.force_login(personas.platform_admin)
    preview = client.post(URL, {"step": "preview", "file": upload(CHART)})
    client.post(URL, {"step": "apply", **preview.context["confirm_form"].initial})
    # when
    again = client.post(URL, {"step": "preview", "file": upload(CHART)})
    # then
    page = again.content.decode()
    assert 'data-testid="org-chart-no-changes"' in page
    assert 'data-testid="org-chart-confirm"' not in page


@pytest.mark.parametrize("persona", ["member", "dept_admin", "finance", "outsider"])
def test_others_get_404(client: Client, personas: Personas, persona: str) -> None:
    # given
    client.force_login(getattr(personas, persona))
    before = table_counts()
    # when
    shown = client.get(URL)
    posted = client.post(URL, {"step": "apply", "text": CHART, "filename": "org.yaml"})
    # then
    assert (shown.status_code, posted.status_code) == (404, 404)
    assert table_counts() == before


def test_anonymous_is_sent_to_sign_in(client: Client, personas: Personas) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_malformed_upload_shows_file_and_line_and_changes_nothing(
    client: Client, personas: Personas
) -> None:
    # given
    client.force_login(personas.platform_admin)
    broken = CHART + "  - {email: kim@acme.test, name: 김민수, department: NOPE}\n"
    before = table_counts()
    # when
    response = client.post(URL, {"step": "preview", "file": upload(broken, "broken.yaml")})
    # then
    assert response.status_code == 200
    assert response.context["upload_form"].non_field_errors() == [
        "broken.yaml:9: user kim@acme.test: unknown department 'NOPE'"
    ]
    assert "broken.yaml:9: user kim@acme.test: unknown department" in response.content.decode()
    assert 'data-testid="org-chart-confirm"' not in response.content.decode()
    assert table_counts() == before


def test_tampered_confirmation_is_validated_again(client: Client, personas: Personas) -> None:
    # given
    client.force_login(personas.platform_admin)
    before = table_counts()
    # when
    response = client.post(
        URL, {"step": "apply", "text": CHART.replace("parent: ENG", "parent: X"), "filename": "o.y"}
    )
    # then
    assert "o.y:5: department ENG-PLAT: unknown parent" in response.content.decode()
    assert table_counts() == before


def test_files_over_2_mb_are_refused(client: Client, personas: Personas) -> None:
    # given
    client.force_login(personas.platform_admin)
    padding = "#" * (MAX_UPLOAD_BYTES + 1) + "\n"
    # when
    response = client.post(URL, {"step": "preview", "file": upload(padding + CHART)})
    # then
    assert response.context["upload_form"].errors["file"] == ["The file is larger than 2 MB."]
