"""gemini and vertex_ai through ``providers.gateway`` against the fake upstream, over
real HTTP: API key, service-account tokens (fetched once, refreshed near expiry),
tools, retries and a dropped stream."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from providers import gateway
from providers.errors import ProviderError
from providers.models import Deployment
from providers.runtime import get_runtime
from providers.types import (
    ChatMessage,
    ChatRequest,
    EmbeddingRequest,
    ReasoningEffort,
    ToolSpec,
    Usage,
)
from tests.fake_upstream import FakeUpstream, Fault
from tests.fake_upstream.gemini_format import (
    GeminiFakeState,
    gemini_state,
    register_service_account,
)

DeploymentFactory = Callable[..., Deployment]
WEATHER = ToolSpec(
    name="get_weather",
    description="오늘 날씨",
    parameters={"type": "object", "properties": {"query": {"type": "string"}}},
)


def ask(
    model: str,
    text: str = "안녕하세요 반갑습니다",
    *,
    tools: list[ToolSpec] | None = None,
    reasoning_effort: ReasoningEffort | None = None,
) -> ChatRequest:
    return ChatRequest(
        model=model,
        messages=[ChatMessage(role="user", content=text)],
        tools=tools,
        reasoning_effort=reasoning_effort,
    )


@pytest.fixture(autouse=True)
def _clean_cooldowns() -> Iterator[None]:
    """Retried failures count toward shared cooldowns; none may leak into other tests."""
    yield
    get_runtime().cooldowns.clear()
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("gateway:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def google(fake_upstream: FakeUpstream) -> Iterator[GeminiFakeState]:
    """The fake's token state, clean for each test."""
    state = gemini_state(fake_upstream)
    state.reset()
    yield state
    state.reset()


@pytest.fixture
def gemini_deployment(
    deployment_factory: DeploymentFactory,
    fake_upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Deployment]:
    """A ``gemini`` deployment whose API key comes from GEMINI_API_KEY (which a test may
    change before it calls ``make``)."""
    monkeypatch.setenv("GEMINI_API_KEY", "gk-fake-key")
    fake_upstream.api_key = "gk-fake-key"

    def make(model_name: str = "gem", **fields: object) -> Deployment:
        fields.setdefault("upstream_model", "gemini-2.5-flash")
        return deployment_factory(
            model_name,
            provider="gemini",
            api_base=fake_upstream.origin,
            secret_env={"api_key": "GEMINI_API_KEY"},
            **fields,
        )

    return make


@pytest.fixture
def vertex_deployment(
    deployment_factory: DeploymentFactory,
    fake_upstream: FakeUpstream,
    google: GeminiFakeState,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[Deployment, dict[str, str]]]:
    """A ``vertex_ai`` deployment with a fresh service account the fake's /token accepts,
    its JSON (or, with ``key_path``, the path of a file holding it) in VERTEX_SA_JSON;
    returns the deployment and the key file. Secrets are resolved when the gateway
    loads its configuration, so the environment is set before the row is saved."""

    def make(
        model_name: str = "vx", *, key_path: Path | None = None, **fields: object
    ) -> tuple[Deployment, dict[str, str]]:
        account = register_service_account(fake_upstream, project_id="acme-ai")
        if key_path is None:
            monkeypatch.setenv("VERTEX_SA_JSON", json.dumps(account))
        else:
            key_path.write_text(json.dumps(account))
            monkeypatch.setenv("VERTEX_SA_JSON", str(key_path))
        fields.setdefault("upstream_model", "gemini-2.5-pro")
        fields.setdefault(
            "params", {"vertex_project": "acme-ai", "vertex_location": "asia-northeast3"}
        )
        deployment = deployment_factory(
            model_name,
            provider="vertex_ai",
            api_base=fake_upstream.origin,
            secret_env={"vertex_credentials": "VERTEX_SA_JSON"},
            **fields,
        )
        return deployment, account

    return make


# --- gemini (API key) -----------------------------------------------------------------


def test_gemini_chat_sends_the_key_in_a_header(
    gemini_deployment: Callable[..., Deployment], fake_upstream: FakeUpstream
) -> None:
    # given
    deployment = gemini_deployment()
    # when
    response = gateway.chat(ask("gem"))
    # then
    assert response.content == "Echo: 안녕하세요 반갑습니다"
    assert response.usage == Usage(prompt_tokens=2, completion_tokens=3)
    assert response.finish_reason == "stop"
    assert response.deployment_id == deployment.pk
    sent = fake_upstream.requests[0]
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == "gk-fake-key"
    assert "key" not in sent.query


def test_gemini_stream_yields_thoughts_deltas_then_usage(
    gemini_deployment: Callable[..., Deployment], fake_upstream: FakeUpstream
) -> None:
    # given
    gemini_deployment()
    # when
    chunks = list(gateway.stream(ask("gem", "one two three", reasoning_effort="low")))
    # then
    assert "".join(c.reasoning for c in chunks) == "Thinking about: one two three"
    assert "".join(c.delta for c in chunks) == "Echo: one two three"
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage == Usage(prompt_tokens=3, completion_tokens=4 + 5, reasoning_tokens=5)
    sent = fake_upstream.requests[0]
    assert sent.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert sent.query == {"alt": "sse"}
    assert sent.body["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 1024,
        "includeThoughts": True,
    }


def test_gemini_safety_settings_from_the_deployment_reach_the_wire(
    gemini_deployment: Callable[..., Deployment], fake_upstream: FakeUpstream
) -> None:
    # given
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]
    gemini_deployment(params={"safety_settings": safety})
    # when
    gateway.chat(ask("gem"))
    # then
    assert fake_upstream.requests[0].body["safetySettings"] == safety


def test_gemini_embed_batches_the_inputs(
    gemini_deployment: Callable[..., Deployment], fake_upstream: FakeUpstream
) -> None:
    # given
    gemini_deployment("gem-embed", upstream_model="gemini-embedding-001", mode="embedding")
    # when
    response = gateway.embed(EmbeddingRequest(model="gem-embed", inputs=["가", "나"], dimensions=8))
    # then
    assert [len(v) for v in response.vectors] == [8, 8]
    assert response.vectors[0] != response.vectors[1]
    assert fake_upstream.requests[0].path.endswith(":batchEmbedContents")


def test_gemini_3_tool_call_round_trip_keeps_the_thought_signature(
    gemini_deployment: Callable[..., Deployment], fake_upstream: FakeUpstream
) -> None:
    # given a Gemini 3 model, which refuses replayed calls without their signature
    gemini_deployment(upstream_model="gemini-3-flash-preview")
    question = ChatMessage(role="user", content="날씨 도구를 써 주세요")
    # when the model calls the tool
    first = gateway.chat(ChatRequest(model="gem", messages=[question], tools=[WEATHER]))
    # and the result goes back
    call = first.tool_calls[0]
    second = gateway.chat(
        ChatRequest(
            model="gem",
            messages=[
                question,
                ChatMessage(role="assistant", content=None, tool_calls=first.tool_calls),
                ChatMessage(role="tool", content="맑음", tool_call_id=call.id),
            ],
            tools=[WEATHER],
        )
    )
    # then
    assert first.finish_reason == "tool_calls"
    assert (call.name, json.loads(call.arguments)) == (
        "get_weather",
        {"query": "날씨 도구를 써 주세요"},
    )
    assert second.content == "Echo: 맑음"
    replayed = fake_upstream.requests[1].body["contents"]
    assert replayed[1]["parts"][0]["thoughtSignature"]
    assert replayed[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": "맑음"}}}
    ]


def test_gemini_stream_tool_call_arrives_whole(
    gemini_deployment: Callable[..., Deployment],
) -> None:
    # given
    gemini_deployment()
    # when
    chunks = list(gateway.stream(ask("gem", "use the tool please", tools=[WEATHER])))
    # then
    calls = [c for chunk in chunks for c in chunk.tool_calls]
    assert [(c.index, c.name) for c in calls] == [(0, "get_weather")]
    assert json.loads(calls[0].arguments) == {"query": "use the tool please"}
    assert chunks[-1].finish_reason == "tool_calls"


def test_gemini_quota_error_is_retried(
    gemini_deployment: Callable[..., Deployment], fake_upstream: FakeUpstream
) -> None:
    # given one RESOURCE_EXHAUSTED answer
    gemini_deployment()
    fake_upstream.inject(Fault(status=429, message="Quota exceeded", retry_after=0.01))
    # when
    response = gateway.chat(ask("gem"))
    # then
    assert response.content.startswith("Echo:")
    assert len(fake_upstream.requests) == 2


def test_gemini_invalid_argument_is_not_retried(
    gemini_deployment: Callable[..., Deployment], fake_upstream: FakeUpstream
) -> None:
    # given
    gemini_deployment()
    fake_upstream.inject(Fault(status=400, message="Invalid value at 'contents'"))
    # when
    with pytest.raises(ProviderError, match="Invalid value") as caught:
        gateway.chat(ask("gem"))
    # then
    assert caught.value.provider_code == "INVALID_ARGUMENT"
    assert len(fake_upstream.requests) == 1


def test_gemini_wrong_key_is_refused(
    gemini_deployment: Callable[..., Deployment],
    fake_upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a deployment whose key the upstream does not know
    monkeypatch.setenv("GEMINI_API_KEY", "gk-wrong")
    gemini_deployment()
    # when
    with pytest.raises(ProviderError, match="API key not valid") as caught:
        gateway.chat(ask("gem"))
    # then
    assert "gk-wrong" not in caught.value.message


def test_gemini_dropped_stream_raises(
    gemini_deployment: Callable[..., Deployment], fake_upstream: FakeUpstream
) -> None:
    # given a connection that drops after two pieces
    gemini_deployment()
    fake_upstream.inject(Fault(drop_after_chunks=2))
    received: list[str] = []

    def consume() -> None:
        for chunk in gateway.stream(ask("gem", "a b c d e f")):
            received.append(chunk.delta)

    # when / then
    with pytest.raises(ProviderError):
        consume()
    assert "".join(received) == "Echo: a"
    assert len(fake_upstream.requests) == 1


# --- vertex_ai (service account) ------------------------------------------------------


def test_vertex_fetches_one_token_for_many_calls(
    vertex_deployment: Callable[..., tuple[Deployment, dict[str, str]]],
    fake_upstream: FakeUpstream,
    google: GeminiFakeState,
) -> None:
    # given
    _, account = vertex_deployment()
    # when chats and a stream run (each on an event loop of its own)
    response = gateway.chat(ask("vx"))
    streamed = "".join(c.delta for c in gateway.stream(ask("vx", "하나 둘")))
    gateway.chat(ask("vx"))
    # then
    assert response.content == "Echo: 안녕하세요 반갑습니다"
    assert streamed == "Echo: 하나 둘"
    assert google.grants_for(account["client_email"]) == 1
    paths = [r.path for r in fake_upstream.requests]
    assert paths[0] == (
        "/v1/projects/acme-ai/locations/asia-northeast3"
        "/publishers/google/models/gemini-2.5-pro:generateContent"
    )
    tokens = {r.headers["Authorization"] for r in fake_upstream.requests}
    assert len(tokens) == 1
    assert tokens.pop().startswith("Bearer ya29.fake-")


def test_vertex_embeddings_use_predict(
    vertex_deployment: Callable[..., tuple[Deployment, dict[str, str]]],
    fake_upstream: FakeUpstream,
) -> None:
    # given
    vertex_deployment("vx-embed", upstream_model="text-embedding-005", mode="embedding")
    # when
    response = gateway.embed(EmbeddingRequest(model="vx-embed", inputs=["한 문장 입니다"]))
    # then
    assert len(response.vectors[0]) == 768
    assert response.usage == Usage(prompt_tokens=3)
    assert fake_upstream.requests[0].path.endswith("/text-embedding-005:predict")


def test_vertex_token_is_refreshed_when_near_expiry(
    vertex_deployment: Callable[..., tuple[Deployment, dict[str, str]]],
    fake_upstream: FakeUpstream,
    google: GeminiFakeState,
) -> None:
    # given tokens that are granted with only four minutes to live
    _, account = vertex_deployment()
    google.expires_in = 240
    # when
    gateway.chat(ask("vx"))
    gateway.chat(ask("vx"))
    # then each call finds its token inside the five-minute margin and refreshes it
    assert google.grants_for(account["client_email"]) == 2
    first, second = (r.headers["Authorization"] for r in fake_upstream.requests)
    assert first != second


def test_vertex_credentials_as_a_path_and_project_from_the_key_file(
    vertex_deployment: Callable[..., tuple[Deployment, dict[str, str]]],
    fake_upstream: FakeUpstream,
    google: GeminiFakeState,
    tmp_path: Path,
) -> None:
    # given the key file on disk, and no vertex_project / vertex_location
    _, account = vertex_deployment(params={}, key_path=tmp_path / "sa.json")
    # when
    response = gateway.chat(ask("vx"))
    # then
    assert response.content.startswith("Echo:")
    assert fake_upstream.requests[0].path.startswith("/v1/projects/acme-ai/locations/us-central1/")
    assert google.grants_for(account["client_email"]) == 1


def test_vertex_refused_token_is_a_provider_error(
    vertex_deployment: Callable[..., tuple[Deployment, dict[str, str]]],
    fake_upstream: FakeUpstream,
    google: GeminiFakeState,
) -> None:
    # given a token endpoint that refuses the account
    _, account = vertex_deployment()
    google.token_status = 401
    # when
    with pytest.raises(ProviderError, match="Account disabled") as caught:
        gateway.chat(ask("vx"))
    # then nothing reached the model, and no secret is in the message
    assert caught.value.status == 401
    assert not caught.value.retryable
    assert fake_upstream.requests == []
    assert account["private_key"] not in caught.value.message


def test_vertex_unavailable_token_endpoint_and_model_are_retried(
    vertex_deployment: Callable[..., tuple[Deployment, dict[str, str]]],
    fake_upstream: FakeUpstream,
    google: GeminiFakeState,
) -> None:
    # given a token endpoint and a model that each fail once
    _, account = vertex_deployment()
    fake_upstream.inject(Fault(status=503, path="/token"))
    fake_upstream.inject(Fault(status=503, message="The model is overloaded."))
    # when
    response = gateway.chat(ask("vx"))
    # then both were retried, and the token fetched on the retry was reused
    assert response.content.startswith("Echo:")
    assert len(fake_upstream.requests) == 2
    assert google.grants_for(account["client_email"]) == 1
