"""The chat websocket with Channels' communicator, the real event fan-out (Redis pub/sub) and
the fake upstream: streaming, persistence, resume, stop, and access checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from chatapp.consumers import ChatConsumer
from chatapp.models import Conversation, Message
from chatapp.services import conversation_create
from orgs.models import User
from providers.models import Deployment
from tests.fake_upstream import FakeUpstream, Fault
from tests.personas import Personas

pytestmark = pytest.mark.django_db(transaction=True)


def communicator(user: User, conversation_id: int) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(ChatConsumer.as_asgi(), f"/ws/chat/{conversation_id}/")
    comm.scope["user"] = user
    comm.scope["url_route"] = {"kwargs": {"conversation_id": conversation_id}}
    return comm


async def collect_until_done(
    comm: WebsocketCommunicator, timeout: float = 10
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        event = await comm.receive_json_from(timeout=timeout)
        events.append(event)
        if event["type"] == "message.done":
            return events


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return async_to_sync(scenario)()


@pytest.fixture
def conversation(personas: Personas, deployment_factory: Callable[..., Deployment]) -> Conversation:
    deployment_factory("chat-model")
    return conversation_create(user=personas.member, model_name="chat-model")


def test_a_turn_streams_and_is_stored(conversation: Conversation, personas: Personas) -> None:
    async def scenario() -> list[dict[str, Any]]:
        comm = communicator(personas.member, conversation.pk)
        connected, _ = await comm.connect()
        assert connected
        assert (await comm.receive_json_from())["type"] == "ready"
        await comm.send_json_to(
            {"type": "send", "text": "휴가 규정 알려줘 please", "parent_id": None}
        )
        events = await collect_until_done(comm)
        await comm.disconnect()
        return events

    events = run(scenario)
    started = next(e for e in events if e["type"] == "message.started")
    deltas = [e for e in events if e["type"] == "message.delta"]
    text = "".join(e["text"] for e in deltas)
    assert text == "Echo: 휴가 규정 알려줘 please"
    assert [e["offset"] for e in deltas] == [
        sum(len(d["text"]) for d in deltas[:i]) for i in range(len(deltas))
    ]
    answer = Message.objects.get(pk=started["message_id"])
    assert (answer.status, answer.content) == ("complete", text)
    assert answer.completion_tokens > 0
    conversation.refresh_from_db()
    assert conversation.title == "휴가 규정 알려줘 please"
    assert conversation.current_leaf_id == answer.pk


def test_a_second_tab_resumes_without_gaps_or_doubles(
    conversation: Conversation, personas: Personas, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.inject(Fault(chunk_delay=0.05))
    words = " ".join(f"w{i}" for i in range(30))

    async def scenario() -> tuple[str, str]:
        first = communicator(personas.member, conversation.pk)
        await first.connect()
        await first.receive_json_from()
        await first.send_json_to({"type": "send", "text": words, "parent_id": None})
        received = ""
        message_id = 0
        while len(received) < 20:  # part of the answer, then the tab goes away
            event = await first.receive_json_from(timeout=10)
            if event["type"] == "message.started":
                message_id = event["message_id"]
            if event["type"] == "message.delta":
                received += event["text"]
        await first.disconnect()
        second = communicator(personas.member, conversation.pk)
        await second.connect()
        await second.receive_json_from()
        await second.send_json_to(
            {"type": "resume", "message_id": message_id, "offset": len(received)}
        )
        text = received
        for event in await collect_until_done(second):
            if event["type"] == "message.delta":
                assert event["offset"] <= len(text), "a gap in the stream"
                text += event["text"][len(text) - event["offset"] :]
        await second.disconnect()
        return text, f"Echo: {words}"

    text, expected = run(scenario)
    assert text == expected


def test_stop_ends_the_answer_and_keeps_what_was_said(
    conversation: Conversation, personas: Personas, fake_upstream: FakeUpstream
) -> None:
    # The stop is broadcast to the generating process, which ends the answer at its next
    # chunk (the stored request is only re-read every few seconds, as a fallback).
    fake_upstream.inject(Fault(chunk_delay=0.2))

    async def scenario() -> dict[str, Any]:
        comm = communicator(personas.member, conversation.pk)
        await comm.connect()
        await comm.receive_json_from()
        await comm.send_json_to(
            {"type": "send", "text": " ".join(["word"] * 50), "parent_id": None}
        )
        while True:
            event = await comm.receive_json_from(timeout=10)
            if event["type"] == "message.delta":
                await comm.send_json_to({"type": "stop", "message_id": event["message_id"]})
                break
        events = await collect_until_done(comm)
        await comm.disconnect()
        return events[-1]

    done = run(scenario)
    assert done["status"] == "stopped"
    answer = Message.objects.get(pk=done["message_id"])
    assert answer.status == "stopped"
    assert answer.content.startswith("Echo:")
    assert answer.content.count("word") <= 4


def test_regenerate_makes_a_sibling(conversation: Conversation, personas: Personas) -> None:
    async def scenario() -> int:
        comm = communicator(personas.member, conversation.pk)
        await comm.connect()
        await comm.receive_json_from()
        await comm.send_json_to({"type": "send", "text": "첫 질문", "parent_id": None})
        first = await collect_until_done(comm)
        user_message_id = next(e for e in first if e["type"] == "message.started")[
            "user_message_id"
        ]
        await comm.send_json_to({"type": "regenerate", "message_id": user_message_id})
        await collect_until_done(comm)
        await comm.disconnect()
        return int(user_message_id)

    user_message_id = run(scenario)
    answers = Message.objects.filter(parent_id=user_message_id, role="assistant")
    assert answers.count() == 2
    assert all(a.status == "complete" for a in answers)


def test_an_upstream_failure_is_an_error_code_not_a_trace(
    conversation: Conversation, personas: Personas, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.inject(Fault(status=503, times=10))

    async def scenario() -> dict[str, Any]:
        comm = communicator(personas.member, conversation.pk)
        await comm.connect()
        await comm.receive_json_from()
        await comm.send_json_to({"type": "send", "text": "hello", "parent_id": None})
        events = await collect_until_done(comm, timeout=30)
        await comm.disconnect()
        return events[-1]

    done = run(scenario)
    assert done["status"] == "error"
    assert done["error_code"] == "upstream_error"


def test_someone_elses_conversation_is_refused(
    conversation: Conversation, personas: Personas
) -> None:
    async def scenario() -> tuple[int | None, int | None]:
        outsider = communicator(personas.outsider, conversation.pk)
        await outsider.connect()
        closed = await outsider.receive_output(timeout=5)
        anonymous = WebsocketCommunicator(ChatConsumer.as_asgi(), f"/ws/chat/{conversation.pk}/")
        from django.contrib.auth.models import AnonymousUser

        anonymous.scope["user"] = AnonymousUser()
        anonymous.scope["url_route"] = {"kwargs": {"conversation_id": conversation.pk}}
        await anonymous.connect()
        closed_anonymous = await anonymous.receive_output(timeout=5)
        return closed.get("code"), closed_anonymous.get("code")

    assert run(scenario) == (4404, 4401)
    assert not Message.objects.exists()


def test_answers_draw_on_documents_the_user_may_read_and_cite_them(
    conversation: Conversation,
    personas: Personas,
    fake_upstream: FakeUpstream,
    deployment_factory: Callable[..., Deployment],
) -> None:
    from chatapp.models import MessageCitation
    from rag.services import acl_parse, document_create, document_ingest

    # given a ready document for ENG (the member's department tree) and one private to HR
    deployment_factory("embedding", mode="embedding")
    eng = document_create(
        owner=personas.dept_admin,
        filename="연차규정.md",
        data="# 연차 규정\n\n미사용 연차는 다음 해 3월까지 이월할 수 있습니다.\n".encode(),
        acl=acl_parse({"departments": ["ENG"], "include_subdepartments": True}),
    )
    hr = document_create(
        owner=personas.outsider,
        filename="급여.md",
        data="# 급여\n\n연차 수당 지급 기준은 인사팀 내부 자료입니다.\n".encode(),
    )
    document_ingest(eng.pk)
    document_ingest(hr.pk)

    async def scenario() -> list[dict[str, Any]]:
        comm = communicator(personas.member, conversation.pk)
        await comm.connect()
        await comm.receive_json_from()
        await comm.send_json_to(
            {"type": "send", "text": "연차 이월 규정 알려줘", "parent_id": None}
        )
        events = await collect_until_done(comm)
        await comm.disconnect()
        return events

    events = run(scenario)
    answer_id = events[-1]["message_id"]
    # then the prompt carried the ENG passage, never HR's, and the answer keeps its source
    chat_call = next(r for r in fake_upstream.requests if r.path == "/v1/chat/completions")
    system_text = " ".join(
        str(m["content"]) for m in chat_call.body["messages"] if m["role"] == "system"
    )
    assert "이월할 수 있습니다" in system_text
    assert "인사팀 내부 자료" not in system_text
    citations = list(MessageCitation.objects.filter(message_id=answer_id))
    assert [c.document_id for c in citations] == [eng.pk]
    # and the citation opens its passage
    cited = citations[0].chunk
    assert cited is not None and cited.document_id == eng.pk
    assert "이월할 수 있습니다" in cited.text


def test_streamed_text_arrives_rendered_and_sanitised(
    conversation: Conversation, personas: Personas, fake_upstream: FakeUpstream
) -> None:
    async def scenario() -> list[dict[str, Any]]:
        comm = communicator(personas.member, conversation.pk)
        await comm.connect()
        await comm.receive_json_from()
        text = "\n# 제목\n\n**굵게** <script>alert(1)</script>\n\n```python\nx = 1\n```\n\n끝"
        await comm.send_json_to({"type": "send", "text": text, "parent_id": None})
        events = await collect_until_done(comm)
        await comm.disconnect()
        return events

    events = run(scenario)
    renders = [e["render"] for e in events if e["type"] == "message.delta" and "render" in e]
    assert renders
    html = "".join(r["frozen"] for r in renders) + (
        next((r["tail"] for r in reversed(renders) if r["tail"] is not None), "") or ""
    )
    assert "<h1>제목</h1>" in html
    assert "<strong>굵게</strong>" in html
    assert "<script>" not in html
