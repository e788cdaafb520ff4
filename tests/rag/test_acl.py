"""The contract-6 ACL: who reads which document (personas, R14)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orgs.errors import AccessDenied
from orgs.models import AuditEvent, Group, Organization, User
from rag.errors import AclInvalid, DuplicateDocument
from rag.models import Chunk, Document, DocumentGrant
from rag.permissions import access_document, can_manage_document, readable_documents_filter
from rag.services import (
    AclSpec,
    acl_parse,
    document_acl_get,
    document_acl_set,
    document_create,
    document_delete,
)
from tests.personas import Personas
from tests.rag.factories import make_document, media_root

__all__ = ["media_root"]

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

PERSONAS = ("member", "dept_admin", "finance", "platform_admin", "outsider")


def readers(personas: Personas, document: Document) -> set[str]:
    return {
        name
        for name in PERSONAS
        if Document.objects.filter(
            readable_documents_filter(getattr(personas, name)), pk=document.pk
        ).exists()
    }


@pytest.fixture
def team(personas: Personas) -> Group:
    group = Group.objects.create(organization=personas.org, name="TF-결산")
    group.members.add(personas.finance, personas.platform_admin)
    return group


@pytest.mark.parametrize(
    ("acl", "expected"),
    [
        (None, {"outsider"}),
        ({}, {"outsider"}),
        ({"org_wide": True}, set(PERSONAS)),
        ({"departments": ["HR"]}, {"outsider"}),
        ({"departments": ["ENG"]}, {"outsider", "dept_admin"}),
        (
            {"departments": ["ENG"], "include_subdepartments": True},
            {"outsider", "dept_admin", "member"},
        ),
        ({"departments": ["ENG-PLAT"]}, {"outsider", "member"}),
        ({"departments": ["ENG-PLAT"], "include_subdepartments": True}, {"outsider", "member"}),
        ({"departments": ["FIN", "IT"]}, {"outsider", "finance", "platform_admin"}),
        ({"groups": ["TF-결산"]}, {"outsider", "finance", "platform_admin"}),
        ({"users": ["Member@ACME.test"]}, {"outsider", "member"}),
        (
            {"departments": ["ENG-PLAT"], "groups": ["TF-결산"], "users": ["lead@acme.test"]},
            {"outsider", "member", "dept_admin", "finance", "platform_admin"},
        ),
    ],
)
def test_acl_matrix(
    personas: Personas, team: Group, acl: dict[str, Any] | None, expected: set[str]
) -> None:
    # given an HR document shared as ``acl``
    document = make_document(personas.outsider, ["인사 규정"], acl=acl)
    # then exactly the expected personas read it (the owner always does)
    assert readers(personas, document) == expected


def test_extra_membership_does_not_grant_department_access(personas: Personas) -> None:
    # finance holds a role in ENG, but ENG is not their department
    document = make_document(personas.member, ["개발 문서"], acl={"departments": ["ENG"]})
    assert "finance" not in readers(personas, document)


def test_platform_admin_does_not_read_everything_but_may_manage(personas: Personas) -> None:
    document = make_document(personas.outsider, ["인사 평가 결과"])
    admin = personas.platform_admin
    assert not Document.objects.filter(readable_documents_filter(admin)).exists()
    with pytest.raises(AccessDenied):
        access_document(admin, document.pk)
    assert can_manage_document(admin, document)
    assert can_manage_document(personas.outsider, document)
    assert not can_manage_document(personas.member, document)


def test_outsider_sees_nothing_of_others(personas: Personas, team: Group) -> None:
    owner = personas.member
    for acl in (
        {},
        {"departments": ["ENG"], "include_subdepartments": True},
        {"groups": ["TF-결산"]},
        {"users": ["finance@acme.test"]},
    ):
        make_document(owner, ["문서"], acl=acl)
    assert not Document.objects.filter(readable_documents_filter(personas.outsider)).exists()


def test_other_organization_never_reads_org_wide(personas: Personas) -> None:
    other = Organization.objects.create(slug="other", name="다른 회사")
    stranger = User.objects.create_user("x@other.test", "pw-123456789", organization=other)
    document = make_document(personas.member, ["공지"], acl={"org_wide": True})
    assert not Document.objects.filter(readable_documents_filter(stranger)).exists()
    with pytest.raises(AccessDenied):
        access_document(stranger, document.pk)


def test_inactive_user_reads_nothing(personas: Personas) -> None:
    make_document(personas.member, ["공지"], acl={"org_wide": True})
    personas.member.is_active = False
    assert not Document.objects.filter(readable_documents_filter(personas.member)).exists()


def test_access_document_returns_readable(personas: Personas) -> None:
    document = make_document(personas.member, ["공지"], acl={"users": ["hr@acme.test"]})
    assert access_document(personas.outsider, document.pk) == document
    with pytest.raises(AccessDenied):
        access_document(personas.finance, document.pk)
    with pytest.raises(AccessDenied):
        access_document(personas.finance, 10**9)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"departments": ["NOPE"]}, "Unknown department code(s) in this organization: NOPE."),
        ({"groups": ["없는그룹"]}, "Unknown group(s) in this organization: 없는그룹."),
        ({"users": ["nobody@acme.test"]}, "Unknown user e-mail(s) in this organization"),
        ({"users": ["x@other.test"]}, "Unknown user e-mail(s) in this organization"),
    ],
)
def test_acl_names_must_exist_in_the_owners_organization(
    personas: Personas, raw: dict[str, Any], message: str
) -> None:
    other = Organization.objects.create(slug="other", name="다른 회사")
    User.objects.create_user("x@other.test", "pw-123456789", organization=other)
    with pytest.raises(AclInvalid) as caught:
        document_create(owner=personas.member, filename="a.txt", data=b"a", acl=acl_parse(raw))
    assert message in caught.value.message
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        {"org_wide": "yes"},
        {"departments": "ENG"},
        {"groups": [1]},
        {"users": [""]},
        {"everyone": True},
    ],
)
def test_acl_shape_errors(raw: dict[str, Any]) -> None:
    with pytest.raises(AclInvalid):
        acl_parse(raw)


def test_acl_set_replaces_grants_and_is_audited(personas: Personas, team: Group) -> None:
    document = make_document(personas.member, ["문서"], acl={"departments": ["ENG"]})
    document_acl_set(
        document=document,
        acl=acl_parse({"groups": ["TF-결산"], "org_wide": False}),
        actor=personas.member,
    )
    assert list(DocumentGrant.objects.filter(document=document).values_list("kind", flat=True)) == [
        "group"
    ]
    assert readers(personas, document) == {"member", "finance", "platform_admin"}
    assert document_acl_get(document) == AclSpec(groups=("TF-결산",))
    event = AuditEvent.objects.filter(action="document.acl_set").get()
    assert event.target_id == str(document.pk)
    assert event.details["groups"] == ["TF-결산"]


def test_korean_file_name_is_stored(personas: Personas, media_root: Path) -> None:
    document = document_create(
        owner=personas.member, filename="C:\\문서\\연차 규정.pdf", data=b"%PDF-1.7 ..."
    )
    assert document.filename == "연차 규정.pdf"
    assert document.title == "연차 규정.pdf"
    parts = str(document.file.name).split("/")
    assert parts[0] == "documents" and len(parts[1]) == 32 and parts[2].startswith("연차")
    assert (media_root / str(document.file.name)).read_bytes() == b"%PDF-1.7 ..."
    assert document.status == Document.Status.QUEUED
    assert document.size == len(b"%PDF-1.7 ...")


def test_duplicate_content_is_detected_per_owner(personas: Personas) -> None:
    first = document_create(owner=personas.member, filename="a.txt", data=b"same")
    with pytest.raises(DuplicateDocument) as caught:
        document_create(owner=personas.member, filename="b.txt", data=b"same")
    assert caught.value.document_id == first.pk
    # another owner may upload the same file
    document_create(owner=personas.finance, filename="a.txt", data=b"same")


def test_delete_removes_chunks_grants_and_file(
    personas: Personas, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    document = make_document(personas.member, ["하나", "둘"], acl={"departments": ["ENG"]})
    path = media_root / str(document.file.name)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=document, actor=personas.member)
    assert not Chunk.objects.exists()
    assert not DocumentGrant.objects.exists()
    assert not path.exists()
    assert AuditEvent.objects.filter(action="document.delete").count() == 1
