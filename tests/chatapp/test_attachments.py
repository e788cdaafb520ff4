"""Files attached to a conversation: private to its owner, searched only in the
conversations that hold them, detected by content, removed with the last holder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from chatapp.attachments import conversation_attachment_ids, conversation_file_add
from chatapp.knowledge import passages_for
from chatapp.models import Conversation, ConversationFile
from chatapp.services import conversation_create, conversation_purge_expired
from rag.models import Chunk, Document
from rag.search import hybrid_search
from rag.services import document_create, document_ingest
from tests.personas import Personas
from tests.rag.factories import embedding_deployment, make_document, media_root

__all__ = ["embedding_deployment", "media_root"]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("media_root", "embedding_deployment"),
]

MEMO = "프로젝트 누리 회의록: 출시일은 2027년 3월 14일로 정했다."
QUESTION = "누리 출시일 회의록"


def attach(client: Client, conversation: Conversation, name: str, text: str) -> dict[str, Any]:
    response = client.post(
        f"/chat/{conversation.pk}/files/",
        {"file": SimpleUploadedFile(name, text.encode(), content_type="text/plain")},
        HTTP_ACCEPT_LANGUAGE="ko",
    )
    assert response.status_code in (200, 201), response.content
    body: dict[str, Any] = response.json()
    body["created"] = response.status_code == 201
    return body


@pytest.fixture
def chat(personas: Personas) -> Conversation:
    return conversation_create(user=personas.member, model_name="chat-model")


def test_an_attached_file_is_searched_in_its_conversation_only(
    client: Client, personas: Personas, chat: Conversation
) -> None:
    client.force_login(personas.member)
    body = attach(client, chat, "회의록.txt", MEMO)
    assert body["created"] and body["status"] == "queued" and body["title"] == "회의록.txt"
    assert body["status_url"] == f"/api/rag/documents/{body['id']}"
    document = Document.objects.get(pk=body["id"])
    assert document.scope == Document.Scope.CHAT and document.owner == personas.member
    assert not document.org_wide and not document.grants.exists()
    ingested = document_ingest(document.pk)
    assert ingested is not None and ingested.status == Document.Status.READY

    # in its conversation the answer may draw on it
    found = passages_for(personas.member, QUESTION, conversation_attachment_ids(chat))
    assert [p.document_id for p in found] == [document.pk]
    assert MEMO in found[0].text and found[0].chunk_id is not None
    # not in another conversation of the same person, nor in company search
    assert passages_for(personas.member, QUESTION) == []
    assert hybrid_search(personas.member, QUESTION) == []
    # and nobody else reads it, even naming it
    assert hybrid_search(personas.outsider, QUESTION, attachments=[document.pk]) == []
    assert hybrid_search(personas.dept_admin, QUESTION, attachments=[document.pk]) == []
    # nor lists it among the company documents, not even its owner
    page = client.get("/documents/").content.decode()
    assert "회의록.txt" not in page
    # and uploading the same file to the company documents is not refused as a duplicate
    library = document_create(owner=personas.member, filename="회의록.txt", data=MEMO.encode())
    assert library.scope == Document.Scope.LIBRARY and library.pk != document.pk
    # and its status is the owner's alone
    assert client.get(body["status_url"]).json()["status"] == "ready"
    client.force_login(personas.outsider)
    assert client.get(body["status_url"]).status_code == 404


def test_company_documents_and_attachments_answer_together(
    personas: Personas, chat: Conversation
) -> None:
    shared = make_document(personas.dept_admin, [MEMO + " (공유본)"], acl={"org_wide": True})
    document, created = conversation_file_add(chat, filename="메모.txt", data=MEMO.encode())
    assert created
    document_ingest(document.pk)
    found = {p.document_id for p in passages_for(personas.member, QUESTION, [document.pk])}
    assert found == {shared.pk, document.pk}


def test_the_same_content_is_attached_once_and_shared_between_conversations(
    client: Client, personas: Personas, chat: Conversation
) -> None:
    client.force_login(personas.member)
    first = attach(client, chat, "회의록.txt", MEMO)
    again = attach(client, chat, "회의록-사본.txt", MEMO)
    assert not again["created"] and again["id"] == first["id"]
    assert ConversationFile.objects.filter(conversation=chat).count() == 1
    other = conversation_create(user=personas.member, model_name="chat-model")
    elsewhere = attach(client, other, "회의록.txt", MEMO)
    assert elsewhere["id"] == first["id"]
    assert Document.objects.filter(owner=personas.member).count() == 1

    # removing it from one conversation keeps it for the other
    removed = client.post(f"/chat/{chat.pk}/files/{first['id']}/remove/")
    assert removed.status_code == 200
    assert Document.objects.filter(pk=first["id"]).exists()
    assert conversation_attachment_ids(chat) == []
    # removing it from the last one deletes the file and its chunks
    document_ingest(first["id"])
    assert Chunk.objects.filter(document_id=first["id"]).exists()
    client.post(f"/chat/{other.pk}/files/{first['id']}/remove/")
    assert not Document.objects.filter(pk=first["id"]).exists()
    assert not Chunk.objects.filter(document_id=first["id"]).exists()
    assert client.post(f"/chat/{other.pk}/files/{first['id']}/remove/").status_code == 404


def test_only_the_owner_attaches_and_bad_uploads_are_refused_in_korean(
    client: Client, personas: Personas, chat: Conversation
) -> None:
    client.force_login(personas.outsider)
    stranger = client.post(f"/chat/{chat.pk}/files/", {"file": SimpleUploadedFile("x.txt", b"x")})
    assert stranger.status_code == 404
    client.force_login(personas.member)
    missing = client.post(f"/chat/{chat.pk}/files/", {}, HTTP_ACCEPT_LANGUAGE="ko")
    assert missing.status_code == 400
    assert missing.json()["error"]["message"] == "첨부할 파일을 고르세요."
    with override_settings(RAG_MAX_UPLOAD_BYTES=1024 * 1024):
        big = client.post(
            f"/chat/{chat.pk}/files/",
            {"file": SimpleUploadedFile("큰파일.txt", b"x" * (1024 * 1024 + 1))},
            HTTP_ACCEPT_LANGUAGE="ko",
        )
    assert big.status_code == 413
    assert big.json()["error"]["message"] == "파일이 1 MB보다 큽니다."
    assert not Document.objects.exists() and not ConversationFile.objects.exists()


def test_purging_a_conversation_deletes_the_files_only_it_held(
    personas: Personas, chat: Conversation
) -> None:
    own, _ = conversation_file_add(chat, filename="a.txt", data=b"only here")
    kept, _ = conversation_file_add(chat, filename="b.txt", data=b"also elsewhere")
    other = conversation_create(user=personas.member, model_name="chat-model")
    conversation_file_add(other, filename="b.txt", data=b"also elsewhere")
    Conversation.objects.filter(pk=chat.pk).update(deleted_at=timezone.now() - timedelta(days=31))
    assert conversation_purge_expired() >= 1
    assert not Document.objects.filter(pk=own.pk).exists()
    assert Document.objects.filter(pk=kept.pk).exists()
    # an orphan left behind (an interrupted purge) is swept once it is an hour old
    stray = document_create(
        owner=personas.member, filename="c.txt", data=b"stray", scope=Document.Scope.CHAT
    )
    conversation_purge_expired()
    assert Document.objects.filter(pk=stray.pk).exists()
    Document.objects.filter(pk=stray.pk).update(created_at=timezone.now() - timedelta(hours=2))
    conversation_purge_expired()
    assert not Document.objects.filter(pk=stray.pk).exists()


def test_a_conversation_may_leave_company_documents_out(
    client: Client, personas: Personas, chat: Conversation
) -> None:
    shared = make_document(personas.dept_admin, [MEMO + " (공유본)"], acl={"org_wide": True})
    own, _ = conversation_file_add(chat, filename="메모.txt", data=MEMO.encode())
    document_ingest(own.pk)
    client.force_login(personas.member)
    page = client.get(f"/chat/{chat.pk}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "회사 문서: 켬" in page
    assert client.post(f"/chat/{chat.pk}/knowledge-off/").status_code == 302
    chat.refresh_from_db()
    assert not chat.company_knowledge
    assert (
        "회사 문서: 끔"
        in client.get(f"/chat/{chat.pk}/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    )
    # then only the conversation's own file answers
    files = conversation_attachment_ids(chat)
    found = passages_for(personas.member, QUESTION, files, company=chat.company_knowledge)
    assert [p.document_id for p in found] == [own.pk]
    assert passages_for(personas.member, QUESTION, [], company=False) == []
    # and on again, the shared document too
    client.post(f"/chat/{chat.pk}/knowledge-on/")
    chat.refresh_from_db()
    found = passages_for(personas.member, QUESTION, files, company=chat.company_knowledge)
    assert {p.document_id for p in found} == {own.pk, shared.pk}
