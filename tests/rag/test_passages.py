"""Opening a cited passage and downloading a document: only for readers, the ACL in
the query, a 404 for everyone else (so a document's existence is not leaked)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client

from orgs.models import User
from orgs.services import membership_set_primary
from rag.models import Chunk
from tests.personas import Personas
from tests.rag.factories import make_document, media_root

__all__ = ["media_root"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

SALARY = "인사팀 전용: 2027년 임금 인상률은 4.5%로 확정되었습니다."


def test_a_reader_opens_the_passage_and_downloads_the_file(
    client: Client, personas: Personas
) -> None:
    document = make_document(
        personas.dept_admin,
        ["첫 문단입니다.", "연차휴가는 입사 1년 후 15일이 부여됩니다."],
        title="개발본부 취업규칙",
        acl={"departments": ["ENG"], "include_subdepartments": True},
        pages=[1, 3],
    )
    chunk = Chunk.objects.get(document=document, ordinal=1)
    client.force_login(personas.member)

    page = client.get(f"/documents/passages/{chunk.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "연차휴가는 입사 1년 후 15일이 부여됩니다." in html
    assert "개발본부 취업규칙" in html and "첫 문단입니다." not in html
    assert f"/documents/{document.pk}/download/" in html

    download = client.get(f"/documents/{document.pk}/download/")
    assert download.status_code == 200
    assert download.getvalue().decode() == "첫 문단입니다.\n\n" + chunk.text
    # the Korean file name survives, RFC 6266 style
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert quote("개발본부 취업규칙.txt") in disposition


def test_nobody_else_gets_a_byte_of_the_hr_document(client: Client, personas: Personas) -> None:
    canary = make_document(
        personas.outsider, [SALARY], title="임금 인상안", acl={"departments": ["HR"]}
    )
    chunk = Chunk.objects.get(document=canary)
    paths = (f"/documents/passages/{chunk.pk}/", f"/documents/{canary.pk}/download/")
    for reader in (personas.member, personas.dept_admin, personas.platform_admin):
        client.force_login(reader)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 404, (reader.email, path)
            assert "4.5%" not in response.content.decode()
    # and a missing passage looks the same as a forbidden one
    assert client.get("/documents/passages/999999/").status_code == 404
    # while HR reads it, until they leave HR
    colleague = User.objects.create_user(
        "hr2@acme.test", "x", name="인사 동료", organization=personas.org
    )
    membership_set_primary(user=colleague, department=personas.hr)
    client.force_login(colleague)
    assert SALARY in client.get(paths[0]).content.decode()
    assert client.get(paths[1]).status_code == 200
    membership_set_primary(user=colleague, department=personas.fin)
    for path in paths:
        assert client.get(path).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client: Client, personas: Personas) -> None:
    document = make_document(personas.member, ["공개 문서"], acl={"org_wide": True})
    chunk = Chunk.objects.get(document=document)
    for path in (f"/documents/passages/{chunk.pk}/", f"/documents/{document.pk}/download/"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
