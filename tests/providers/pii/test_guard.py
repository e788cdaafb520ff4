"""Screening chat requests and embedding inputs: mask, allow, block."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from providers.errors import GatewayError
from providers.pii.guard import PiiBlocked, screen_chat, screen_texts
from providers.types import ChatMessage, ChatRequest, ContentPart, ToolCall

RRN = "900101-1234568"
TIMES = "\u00d7"
PHONE = "010-1234-5678"


def chat(*messages: ChatMessage, model: str = "gpt-4o") -> ChatRequest:
    return ChatRequest(model=model, messages=list(messages))


def test_mask_string_content_in_a_copy() -> None:
    system = ChatMessage(role="system", content="You are a helpful assistant.")
    user = ChatMessage(role="user", content=f"제 주민번호는 {RRN}, 전화는 {PHONE}입니다.")
    request = chat(system, user)
    screened = screen_chat(request, action="mask")
    assert screened.counts == {"resident_registration_number": 1, "phone_number": 1}
    assert screened.masked and screened.found
    assert screened.request is not request
    masked = "제 주민번호는 [주민등록번호], 전화는 [전화번호]입니다."
    assert screened.request.messages[1].content == masked
    assert screened.request.messages[0] is system  # untouched messages are reused
    assert screened.request.model == "gpt-4o"
    # The original is never changed.
    assert request.messages[1].content == f"제 주민번호는 {RRN}, 전화는 {PHONE}입니다."


def test_mask_text_parts_and_keep_images() -> None:
    image: ContentPart = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    parts: list[ContentPart] = [
        {"type": "text", "text": "이 명함의 번호 010-9876-5432 와"},
        image,
        {"type": "text", "text": "메일 kim@acme.co.kr 을 정리해 줘"},
    ]
    request = chat(ChatMessage(role="user", content=parts))
    screened = screen_chat(request, action="mask")
    content = screened.request.messages[0].content
    assert isinstance(content, list)
    assert content[0] == {"type": "text", "text": "이 명함의 번호 [전화번호] 와"}
    assert content[1] is image
    assert content[2] == {"type": "text", "text": "메일 [이메일] 을 정리해 줘"}
    assert parts[0] == {"type": "text", "text": "이 명함의 번호 010-9876-5432 와"}
    assert screened.counts == {"phone_number": 1, "email": 1}


def test_mask_tool_call_arguments_as_valid_json() -> None:
    arguments = json.dumps(
        {"name": "홍길동", "phone": PHONE, "rrn": 9001011234568, "tags": ["x", "kim@acme.co.kr"]},
        ensure_ascii=False,
    )
    call = ToolCall(id="call_1", name="register_member", arguments=arguments)
    assistant = ChatMessage(role="assistant", content=None, tool_calls=(call,))
    tool = ChatMessage(role="tool", content=f"등록 완료: {RRN}", tool_call_id="call_1")
    screened = screen_chat(chat(assistant, tool), action="mask")
    masked_call = screened.request.messages[0].tool_calls[0]
    assert masked_call.id == "call_1" and masked_call.name == "register_member"
    assert json.loads(masked_call.arguments) == {
        "name": "홍길동",
        "phone": "[전화번호]",
        "rrn": "[주민등록번호]",
        "tags": ["x", "[이메일]"],
    }
    assert screened.request.messages[1].content == "등록 완료: [주민등록번호]"
    assert screened.request.messages[1].tool_call_id == "call_1"
    assert screened.counts == {"resident_registration_number": 2, "phone_number": 1, "email": 1}
    assert call.arguments == arguments


def test_tool_arguments_with_escapes_and_plain_text() -> None:
    escaped = '{"to": "\\u0030\\u0031\\u0030-1234-5678"}'  # "010-1234-5678" as JSON escapes
    plain = "call 010-1234-5678 now"  # not JSON
    calls = (ToolCall("a", "f", escaped), ToolCall("b", "g", plain), ToolCall("c", "h", "{}"))
    screened = screen_chat(
        chat(ChatMessage(role="assistant", content="", tool_calls=calls)), action="mask"
    )
    masked = screened.request.messages[0].tool_calls
    assert json.loads(masked[0].arguments) == {"to": "[전화번호]"}
    assert masked[1].arguments == "call [전화번호] now"
    assert masked[2] is calls[2]


def test_allow_counts_but_sends_the_request_unchanged() -> None:
    request = chat(ChatMessage(role="user", content=f"{RRN} 와 {PHONE}, {PHONE}"))
    screened = screen_chat(request, action="allow")
    assert screened.request is request
    assert screened.counts == {"resident_registration_number": 1, "phone_number": 2}
    assert not screened.masked


def test_nothing_found_returns_the_same_request() -> None:
    request = chat(ChatMessage(role="user", content="3분기 매출 1,234,567,890원 보고서 요약해 줘"))
    for action in ("allow", "mask", "block"):
        screened = screen_chat(request, action=action)
        assert screened.request is request
        assert screened.counts == {}
        assert not screened.found


def test_block_says_what_was_found_but_never_the_values() -> None:
    request = chat(
        ChatMessage(role="user", content=f"주민번호 {RRN}, 연락처 {PHONE} / 02-123-4567"),
        model="gpt-4o",
    )
    with translation.override("en"), pytest.raises(PiiBlocked) as caught:
        screen_chat(request, action="block")
    error = caught.value
    assert isinstance(error, GatewayError)
    assert error.status == 400
    assert error.code == "pii_blocked"
    assert error.counts == {"resident_registration_number": 1, "phone_number": 2}
    assert error.message == (
        f"This request contains personal data (resident registration number {TIMES}1, "
        f"phone number {TIMES}2), which may not be sent to the external model “gpt-4o”. "
        "Remove it, or choose a model that runs inside the company."
    )
    for value in (RRN, PHONE, "02-123-4567", "1234568", "5678"):
        assert value not in error.message
        assert value not in str(error)


def test_block_message_follows_the_active_language() -> None:
    request = chat(ChatMessage(role="user", content=f"메일 kim@acme.co.kr {RRN}"))
    with translation.override("en"), pytest.raises(PiiBlocked) as english:
        screen_chat(request, action="block")
    assert f"email address {TIMES}1" in english.value.message
    with translation.override("ko"), pytest.raises(PiiBlocked) as korean:
        screen_chat(request, action="block")
    assert "kim@acme.co.kr" not in korean.value.message
    assert "gpt-4o" in korean.value.message


def test_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown PII action"):
        screen_chat(chat(ChatMessage(role="user", content="hi")), action="redact")
    with pytest.raises(ValueError, match="unknown PII action"):
        screen_texts(["hi"], action="", model="m")


def test_screen_texts_for_embeddings() -> None:
    texts = ["사내 규정 제3조", f"담당자 {PHONE}", "kim@acme.co.kr 문의"]
    masked = screen_texts(texts, action="mask", model="text-embedding-3-small")
    assert masked.texts == ["사내 규정 제3조", "담당자 [전화번호]", "[이메일] 문의"]
    assert masked.counts == {"phone_number": 1, "email": 1}
    assert texts[1] == f"담당자 {PHONE}"
    allowed = screen_texts(texts, action="allow", model="text-embedding-3-small")
    assert allowed.texts is texts and allowed.counts == masked.counts
    with translation.override("en"), pytest.raises(PiiBlocked) as caught:
        screen_texts(texts, action="block", model="text-embedding-3-small")
    assert "“text-embedding-3-small”" in caught.value.message
    assert PHONE not in caught.value.message
    clean = ["회의록", "예산 1,000,000원"]
    assert screen_texts(clean, action="block", model="m").texts is clean
