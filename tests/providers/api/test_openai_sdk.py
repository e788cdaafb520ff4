"""The /v1 API, driven by the official openai SDK against daphne and the fake upstream."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
import openai
import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletionFunctionToolParam

from orgs.models import User
from orgs.selectors import primary_membership
from providers.keys import virtual_key_create, virtual_key_revoke
from providers.models import Deployment, RouterSettings, UsageRecord, VirtualKey
from tests.fake_upstream import FakeUpstream, Fault
from tests.personas import Personas

pytestmark = pytest.mark.django_db(transaction=True)
DeploymentFactory = Callable[..., Deployment]


def wait_for_models(client: OpenAI, expected: set[str]) -> None:
    """daphne learns of configuration changes through Redis; wait until it has."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if {m.id for m in client.models.list()} == expected:
            return
        time.sleep(0.05)
    raise AssertionError(f"the API never listed {expected}")


def ledger_rows(**filters: object) -> list[UsageRecord]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        rows = list(UsageRecord.objects.filter(**filters).order_by("attempt"))
        if rows:
            return rows
        time.sleep(0.05)
    return []


@pytest.fixture
def api(
    live_daphne: str, personas: Personas, deployment_factory: DeploymentFactory
) -> Iterator[OpenAI]:
    RouterSettings.objects.update_or_create(pk=1, defaults={"num_retries": 1})
    deployment_factory("gpt-4o-mini")
    deployment_factory("private-model")
    issued = virtual_key_create(user=personas.member, models=["gpt-4o-mini"], name="ci")
    client = OpenAI(
        api_key=issued.plaintext, base_url=f"{live_daphne}/v1", max_retries=0, timeout=20
    )
    wait_for_models(client, {"gpt-4o-mini"})
    yield client
    client.close()


def test_models_lists_only_what_the_key_may_use(api: OpenAI) -> None:
    assert [m.id for m in api.models.list()] == ["gpt-4o-mini"]


def test_chat_completion(api: OpenAI, personas: Personas) -> None:
    completion = api.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "안녕 세상"}]
    )
    assert completion.choices[0].message.content == "Echo: 안녕 세상"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 3
    [row] = ledger_rows(user=personas.member, status="ok")
    membership = primary_membership(personas.member)
    assert membership is not None
    assert row.department_id == membership.department_id
    assert row.virtual_key_id is not None
    assert row.source == "api"


def test_streaming_with_usage(api: OpenAI) -> None:
    stream = api.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "one two three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = ""
    usage = None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage is not None:
            usage = chunk.usage
    assert text == "Echo: one two three"
    assert usage is not None
    assert usage.total_tokens == 7


def test_tools_round_trip(api: OpenAI) -> None:
    tools: list[ChatCompletionFunctionToolParam] = [
        {
            "type": "function",
            "function": {
                "name": "search_docs",
                "description": "사내 문서 검색",
                "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
            },
        }
    ]
    first = api.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "use the tool please"}],
        tools=tools,
    )
    calls = first.choices[0].message.tool_calls or []
    assert first.choices[0].finish_reason == "tool_calls"
    call = calls[0]
    assert call.type == "function"
    assert call.function.name == "search_docs"
    assert json.loads(call.function.arguments) == {"query": "use the tool please"}
    streamed = api.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "tool again"}],
        tools=tools,
        stream=True,
    )
    names = [
        tc.function.name
        for chunk in streamed
        if chunk.choices
        for tc in chunk.choices[0].delta.tool_calls or []
        if tc.function and tc.function.name
    ]
    assert names == ["search_docs"]


def test_embeddings(
    live_daphne: str, personas: Personas, deployment_factory: DeploymentFactory
) -> None:
    deployment_factory("embedder", mode="embedding")
    issued = virtual_key_create(user=personas.member)
    client = OpenAI(api_key=issued.plaintext, base_url=f"{live_daphne}/v1", max_retries=0)
    wait_for_models(client, {"embedder"})
    result = client.embeddings.create(model="embedder", input=["가나다", "라마바"], dimensions=16)
    assert [len(d.embedding) for d in result.data] == [16, 16]


def test_errors_have_openai_shapes_and_statuses(
    api: OpenAI, live_daphne: str, fake_upstream: FakeUpstream
) -> None:
    with pytest.raises(openai.AuthenticationError):
        OpenAI(api_key="sk-wrong", base_url=f"{live_daphne}/v1", max_retries=0).models.list()
    with pytest.raises(openai.NotFoundError):
        api.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.PermissionDeniedError):
        api.chat.completions.create(
            model="private-model", messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.BadRequestError) as bad:
        api.chat.completions.create(model="gpt-4o-mini", messages=[])
    assert bad.value.body["param"] == "messages"  # type: ignore[index]
    fake_upstream.inject(Fault(status=500, times=5))
    with pytest.raises(openai.InternalServerError) as upstream:
        api.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
        )
    assert upstream.value.status_code == 502
    # not JSON, and not strict JSON (NaN, a lone surrogate)
    for body in (
        b"{not json",
        b'{"model": "gpt-4o-mini", "temperature": NaN, "messages": []}',
        b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "\\ud800"}]}',
    ):
        raw = httpx.post(
            f"{live_daphne}/v1/chat/completions",
            content=body,
            headers={"Authorization": f"Bearer {api.api_key}"},
        )
        assert raw.status_code == 400, body
        assert raw.json()["error"]["type"] == "invalid_request_error"
        assert raw.json()["error"]["message"] == "The request body is not valid JSON"


def test_revocation_is_immediate(api: OpenAI, personas: Personas) -> None:
    api.models.list()  # the key is now cached by the server
    key = VirtualKey.objects.get(user=personas.member)
    virtual_key_revoke(key=key, actor=personas.platform_admin)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            api.models.list()
        except openai.AuthenticationError:
            return
        time.sleep(0.02)
    raise AssertionError("the revoked key kept working")


def test_deactivated_owner_loses_the_api(api: OpenAI, personas: Personas) -> None:
    from orgs.services import user_deactivate

    api.models.list()
    user_deactivate(user=User.objects.get(pk=personas.member.pk), reason="admin")
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            api.models.list()
        except openai.AuthenticationError:
            return
        time.sleep(0.02)
    raise AssertionError("a deactivated owner's key kept working")


def test_client_disconnect_cancels_the_upstream(
    api: OpenAI, fake_upstream: FakeUpstream, personas: Personas
) -> None:
    fake_upstream.inject(Fault(chunk_delay=0.3))
    stream = api.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": " ".join(["word"] * 40)}],
        stream=True,
    )
    next(iter(stream))
    stream.close()
    [row] = ledger_rows(user=personas.member, status="cancelled")
    assert row.latency_ms < 5000
