"""Managing a document from its page: who may (owner, the department's admin, a
platform admin), sharing changes counted from the next search, a new version that
replaces the old in search, deletion of every chunk and the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from chatapp.attachments import conversation_file_add
from chatapp.services import conversation_create
from orgs.models import AuditEvent
from rag.errors import AclInvalid
from rag.models import Chunk, Document
from rag.permissions import can_edit_document, can_manage_document
from rag.search import hybrid_search
from rag.services import AclSpec, document_acl_set, document_ingest
from tests.personas import Personas
from tests.rag.factories import embedding_deployment, make_document, media_root

__all__ = ["embedding_deployment", "media_root"]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("media_root", "embedding_deployment"),
]

LEAVE = "연차휴가는 입사 1년 후 15일이 부여됩니다."
NEW_LEAVE = "2027년부터 연차휴가는 입사 첫날 20일이 부여됩니다."


def test_who_manages_a_document(personas: Personas) -> None:
    # a team member's document under ENG: its owner, ENG's admin and the platform admin
    # a team member's document under ENG: its owner and ENG's admin edit it; the
    # platform admin may only delete it
    plat = make_document(personas.member, [LEAVE], title="플랫폼팀 규정")
    for user in (personas.member, personas.dept_admin):
        assert can_edit_document(user, plat) and can_manage_document(user, plat)
    assert can_manage_document(personas.platform_admin, plat)
    assert not can_edit_document(personas.platform_admin, plat)
    for user in (personas.outsider, personas.finance):
        assert not can_manage_document(user, plat) and not can_edit_document(user, plat)
    # HR's document stays HR's, even shared with a team under ENG
    hr = make_document(
        personas.outsider, [LEAVE], title="인사 규정", acl={"departments": ["ENG-PLAT"]}
    )
    assert not can_edit_document(personas.dept_admin, hr)
    assert not can_manage_document(personas.dept_admin, hr)
    # a file attached to a conversation is its owner's alone, and cannot be shared
    attached, _ = conversation_file_add(
        conversation_create(user=personas.member, model_name="chat-model"),
        filename="메모.txt",
        data=b"memo",
    )
    assert can_edit_document(personas.member, attached)
    for user in (personas.dept_admin, personas.platform_admin):
        assert not can_manage_document(user, attached)
    with pytest.raises(AclInvalid):
        document_acl_set(document=attached, acl=AclSpec(org_wide=True), actor=personas.member)


def test_the_owner_shares_and_unshares_and_it_counts_at_once(
    client: Client, personas: Personas
) -> None:
    document = make_document(personas.member, [LEAVE], title="휴가 규정")
    assert hybrid_search(personas.outsider, LEAVE) == []
    client.force_login(personas.member)
    page = client.get(f"/documents/{document.pk}/", HTTP_ACCEPT_LANGUAGE="ko")
    assert page.status_code == 200 and "읽을 수 있는 사람" in page.content.decode()

    response = client.post(
        f"/documents/{document.pk}/access/",
        {"departments": ["HR"], "users": "lead@acme.test, ops@acme.test"},
    )
    assert response.status_code == 302
    assert [r.document_id for r in hybrid_search(personas.outsider, LEAVE)] == [document.pk]
    assert hybrid_search(personas.platform_admin, LEAVE)
    assert hybrid_search(personas.finance, LEAVE) == []
    assert AuditEvent.objects.filter(action="document.acl_set", target_id=str(document.pk))

    client.post(f"/documents/{document.pk}/access/", {})  # private again
    assert hybrid_search(personas.outsider, LEAVE) == []
    assert hybrid_search(personas.platform_admin, LEAVE) == []

    # an unknown person is refused with the reason, and nothing changes
    client.post(f"/documents/{document.pk}/access/", {"org_wide": "on"})
    response = client.post(
        f"/documents/{document.pk}/access/",
        {"users": "nobody@elsewhere.test"},
        HTTP_ACCEPT_LANGUAGE="ko",
        follow=True,
    )
    assert "저장하지 못했습니다" in response.content.decode()
    assert Document.objects.get(pk=document.pk).org_wide


def test_others_cannot_manage_nor_see_the_page(client: Client, personas: Personas) -> None:
    document = make_document(personas.outsider, [LEAVE], title="인사 규정")
    for reader in (personas.member, personas.dept_admin):
        client.force_login(reader)
        assert client.get(f"/documents/{document.pk}/").status_code == 404
        for action in ("access", "delete"):
            assert client.post(f"/documents/{document.pk}/{action}/", {}).status_code == 404
    assert Document.objects.filter(pk=document.pk).exists()
    # the platform admin may delete it, without reading or re-sharing it
    client.force_login(personas.platform_admin)
    page = client.get(f"/documents/{document.pk}/").content.decode()
    assert f"/documents/{document.pk}/delete/" in page
    assert f"/documents/{document.pk}/download/" not in page
    assert f"/documents/{document.pk}/access/" not in page
    response = client.post(f"/documents/{document.pk}/access/", {"org_wide": "on"})
    assert response.status_code == 404
    assert not Document.objects.get(pk=document.pk).org_wide


def test_a_new_version_replaces_the_old_in_search(
    client: Client, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    document = make_document(personas.member, [LEAVE], title="휴가 규정")
    old_file = Path(document.file.path)
    assert old_file.exists()
    client.force_login(personas.dept_admin)  # ENG's admin, for a team member's document
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            f"/documents/{document.pk}/replace/",
            {"file": SimpleUploadedFile("휴가 규정 v2.txt", NEW_LEAVE.encode())},
        )
    # after commit: the old file goes, the ingestion is queued (run here by hand)
    assert len(queued) == 2
    queued[0]()
    # while it is being read, another version is refused
    refused = client.post(
        f"/documents/{document.pk}/replace/",
        {"file": SimpleUploadedFile("v3.txt", b"v3")},
        HTTP_ACCEPT_LANGUAGE="ko",
        follow=True,
    )
    assert "아직 읽는 중입니다" in refused.content.decode()
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.status == Document.Status.QUEUED and document.filename == "휴가 규정 v2.txt"
    assert document.title == "휴가 규정"
    assert not old_file.exists()
    assert hybrid_search(personas.member, LEAVE) == []  # not searched while it is read
    document_ingest(document.pk)
    found = hybrid_search(personas.member, "연차휴가 입사 첫날", vector_weight=0)
    assert [r.text for r in found] == [NEW_LEAVE]
    assert list(Chunk.objects.filter(document=document).values_list("text", flat=True)) == [
        NEW_LEAVE
    ]


def test_delete_removes_chunks_and_file(
    client: Client, personas: Personas, django_capture_on_commit_callbacks: Any
) -> None:
    document = make_document(personas.member, [LEAVE, NEW_LEAVE], title="휴가 규정")
    path = Path(document.file.path)
    client.force_login(personas.member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/documents/{document.pk}/delete/", follow=True)
    assert response.redirect_chain[-1][0] == "/documents/"
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not Chunk.objects.filter(document_id=document.pk).exists()
    assert not path.exists()
    assert hybrid_search(personas.member, LEAVE) == []


def test_a_new_version_over_the_size_limit_is_refused_and_the_old_one_stays(
    client: Client, personas: Personas
) -> None:
    document = make_document(personas.member, [LEAVE], title="휴가 규정")
    client.force_login(personas.member)
    with override_settings(RAG_MAX_UPLOAD_BYTES=1024 * 1024):
        refused = client.post(
            f"/documents/{document.pk}/replace/",
            {"file": SimpleUploadedFile("big.txt", b"x" * (1024 * 1024 + 1))},
            HTTP_ACCEPT_LANGUAGE="ko",
            follow=True,
        )
    assert "파일이 1 MB보다 큽니다." in refused.content.decode()
    document.refresh_from_db()
    assert document.status == Document.Status.READY and document.filename != "big.txt"
