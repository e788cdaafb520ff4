"""Archive, system prompt and deleting single messages, as the conversation page does them."""

from __future__ import annotations

import pytest
from django.test import Client

from chatapp.models import Conversation, Message
from chatapp.selectors import message_path
from chatapp.services import (
    MessageBusy,
    assistant_message_finish,
    assistant_message_start,
    conversation_create,
    message_delete,
    user_message_add,
)
from tests.personas import Personas

pytestmark = pytest.mark.django_db


def answered(conversation: Conversation, text: str, parent: Message | None) -> Message:
    question = user_message_add(conversation, text=text, parent=parent)
    answer = assistant_message_start(conversation, parent=question, model_name="m", worker="w")
    return assistant_message_finish(answer.pk, status="complete", tail=f"answer to {text}")


def texts(conversation: Conversation) -> list[str]:
    conversation.refresh_from_db()
    return [m.content for m in message_path(conversation)]


def test_deleting_an_answer_shows_the_other_version(personas: Personas) -> None:
    conversation = conversation_create(user=personas.member, model_name="m")
    first = answered(conversation, "하나", None)
    question = first.parent
    assert question is not None
    second = assistant_message_start(conversation, parent=question, model_name="m", worker="w")
    assistant_message_finish(second.pk, status="complete", tail="다시 쓴 답")
    assert texts(conversation) == ["하나", "다시 쓴 답"]
    message_delete(conversation, message=Message.objects.get(pk=second.pk))
    assert texts(conversation) == ["하나", "answer to 하나"]


def test_deleting_a_question_removes_its_replies_and_moves_up(personas: Personas) -> None:
    conversation = conversation_create(user=personas.member, model_name="m")
    first = answered(conversation, "하나", None)
    second = answered(conversation, "둘", first)
    question = second.parent
    assert question is not None
    message_delete(conversation, message=question)
    assert texts(conversation) == ["하나", "answer to 하나"]
    assert not Message.objects.filter(pk=second.pk).exists()


def test_an_answer_being_written_cannot_be_deleted(personas: Personas) -> None:
    conversation = conversation_create(user=personas.member, model_name="m")
    question = user_message_add(conversation, text="질문", parent=None)
    assistant_message_start(conversation, parent=question, model_name="m", worker="w")
    with pytest.raises(MessageBusy):
        message_delete(conversation, message=question)
    assert Message.objects.filter(conversation=conversation).count() == 2


def test_page_actions_and_their_permissions(client: Client, personas: Personas) -> None:
    conversation = conversation_create(user=personas.member, model_name="m")
    answer = answered(conversation, "질문", None)
    url = f"/chat/{conversation.pk}/"
    # someone else cannot touch it
    client.force_login(personas.outsider)
    assert client.post(url + "system/", {"system_prompt": "x"}).status_code == 404
    assert client.post(url + "delete-message/", {"message_id": answer.pk}).status_code == 404
    # the owner sets a system prompt, archives, finds it in the archive, deletes a message
    client.force_login(personas.member)
    client.post(url + "system/", {"system_prompt": "존댓말로 짧게 답하세요."})
    conversation.refresh_from_db()
    assert conversation.system_prompt == "존댓말로 짧게 답하세요."
    assert "존댓말로 짧게 답하세요." in client.get(url).content.decode()
    client.post(url + "archive/")
    sidebar = client.get("/chat/bin/").content.decode()
    assert f'href="/chat/{conversation.pk}/"' not in sidebar.split('data-testid="bin-list"')[0]
    archive = client.get("/chat/archive/").content.decode()
    assert f'href="/chat/{conversation.pk}/"' in archive
    client.post(url + "unarchive/")
    assert (
        f'href="/chat/{conversation.pk}/"'
        not in client.get("/chat/archive/").content.decode().split('data-testid="archive-list"')[1]
    )
    response = client.post(url + "delete-message/", {"message_id": answer.pk})
    assert response.status_code == 302
    assert not Message.objects.filter(pk=answer.pk).exists()
    # a message of another conversation is not found through this one
    other = conversation_create(user=personas.member, model_name="m")
    foreign = answered(other, "다른", None)
    assert client.post(url + "delete-message/", {"message_id": foreign.pk}).status_code == 404
