"""The gateway against the fake upstream over real HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from providers import gateway
from providers.errors import ModelNotFound, ProviderError
from providers.models import Deployment, Fallback
from providers.types import ChatMessage, ChatRequest, Usage
from tests.fake_upstream import FakeUpstream, Fault

DeploymentFactory = Callable[..., Deployment]


def ask(model: str, text: str = "안녕하세요 반갑습니다") -> ChatRequest:
    return ChatRequest(model=model, messages=[ChatMessage(role="user", content=text)])


def test_chat_returns_text_and_usage(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    deployment = deployment_factory()
    response = gateway.chat(ask("fake-chat"))
    assert response.content == "Echo: 안녕하세요 반갑습니다"
    assert response.usage == Usage(prompt_tokens=2, completion_tokens=3)
    assert response.deployment_id == deployment.pk
    assert fake_upstream.requests[0].body["model"] == "gpt-fake"


def test_stream_yields_deltas_then_usage(deployment_factory: DeploymentFactory) -> None:
    deployment_factory()
    chunks = list(gateway.stream(ask("fake-chat", "one two three")))
    assert "".join(c.delta for c in chunks) == "Echo: one two three"
    assert chunks[-1].usage == Usage(prompt_tokens=3, completion_tokens=4)


def test_retryable_failure_is_retried(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    deployment_factory()
    fake_upstream.inject(Fault(status=503, times=1))
    response = gateway.chat(ask("fake-chat"))
    assert response.content.startswith("Echo:")
    assert len(fake_upstream.requests) == 2


def test_client_error_is_not_retried(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    deployment_factory()
    fake_upstream.inject(Fault(status=400, message="bad request body"))
    with pytest.raises(ProviderError, match="bad request body") as caught:
        gateway.chat(ask("fake-chat"))
    assert caught.value.status == 400
    assert len(fake_upstream.requests) == 1


def test_falls_back_to_another_model(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    # given a primary that keeps failing and a configured fallback
    deployment_factory("primary", upstream_model="primary-up")
    backup = deployment_factory("backup", upstream_model="backup-up")
    Fallback.objects.create(
        model_name="primary", kind="general", position=0, fallback_model_name="backup"
    )
    fake_upstream.inject(Fault(status=500, times=2, path="/v1/chat/completions"))
    # when
    response = gateway.chat(ask("primary"))
    # then
    assert response.deployment_id == backup.pk
    assert [r.body["model"] for r in fake_upstream.requests] == [
        "primary-up",
        "primary-up",
        "backup-up",
    ]


def test_stream_is_not_switched_after_first_token(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    deployment_factory("primary")
    deployment_factory("backup")
    Fallback.objects.create(
        model_name="primary", kind="general", position=0, fallback_model_name="backup"
    )
    fake_upstream.inject(Fault(drop_after_chunks=2))
    received: list[str] = []

    def consume() -> None:
        for chunk in gateway.stream(ask("primary", "a b c d e f")):
            received.append(chunk.delta)

    with pytest.raises(ProviderError):
        consume()
    assert "".join(received) == "Echo: a"
    assert len(fake_upstream.requests) == 1


def test_unreachable_endpoint_is_a_useful_error(deployment_factory: DeploymentFactory) -> None:
    deployment_factory(api_base="http://127.0.0.1:9/v1")
    with pytest.raises(ProviderError, match="could not be reached"):
        gateway.chat(ask("fake-chat"))


@pytest.mark.django_db
def test_unknown_model() -> None:
    with pytest.raises(ModelNotFound):
        gateway.chat(ask("nope"))
