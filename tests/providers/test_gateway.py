"""The gateway and its router against the fake upstream over real HTTP."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from providers import gateway
from providers.errors import ContextWindowExceeded, ModelNotAllowed, ModelNotFound, ProviderError
from providers.keys import Caller
from providers.models import Deployment, Fallback, RouterSettings, UsageRecord
from providers.router import order_deployments
from providers.runtime import COOLDOWN_KEY, get_runtime
from providers.types import ChatMessage, ChatRequest, Usage
from tests.fake_upstream import FakeUpstream, Fault

DeploymentFactory = Callable[..., Deployment]


def ask(model: str, text: str = "안녕하세요 반갑습니다") -> ChatRequest:
    return ChatRequest(model=model, messages=[ChatMessage(role="user", content=text)])


def policy(**fields: object) -> None:
    RouterSettings.objects.update_or_create(pk=1, defaults=fields)


def ledger(*deployments: Deployment) -> list[UsageRecord]:
    get_runtime().ledger.flush_sync()
    return list(
        UsageRecord.objects.filter(deployment_id__in=[d.pk for d in deployments]).order_by(
            "request_id", "attempt"
        )
    )


@pytest.fixture(autouse=True)
def _clean_cooldowns() -> None:
    get_runtime().cooldowns.clear()
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter("gateway:*"):
        client.delete(key)
    client.close()


def test_chat_returns_text_usage_and_a_costed_ledger_row(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    # given a priced deployment
    deployment = deployment_factory(
        input_cost_per_token=Decimal("0.000001"), output_cost_per_token=Decimal("0.000002")
    )
    # when
    response = gateway.chat(ask("fake-chat"), Caller(user_id=None, source="chat"))
    # then
    assert response.content == "Echo: 안녕하세요 반갑습니다"
    assert response.usage == Usage(prompt_tokens=2, completion_tokens=3)
    assert fake_upstream.requests[0].body["model"] == "gpt-fake"
    [row] = ledger(deployment)
    assert (row.status, row.is_final, row.source, row.model_group) == (
        "ok",
        True,
        "chat",
        "fake-chat",
    )
    assert (row.prompt_tokens, row.completion_tokens) == (2, 3)
    assert row.cost_usd == Decimal("0.000008")
    assert row.latency_ms > 0


def test_stream_yields_deltas_then_usage_and_records_ttft(
    deployment_factory: DeploymentFactory,
) -> None:
    deployment = deployment_factory()
    chunks = list(gateway.stream(ask("fake-chat", "one two three")))
    assert "".join(c.delta for c in chunks) == "Echo: one two three"
    assert chunks[-1].usage == Usage(prompt_tokens=3, completion_tokens=4)
    [row] = ledger(deployment)
    assert row.streamed
    assert row.ttft_ms is not None
    assert row.ttft_ms <= row.latency_ms


def test_retryable_failure_is_retried_and_each_attempt_metered(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    policy(num_retries=1)
    deployment = deployment_factory()
    fake_upstream.inject(Fault(status=503, times=1))
    response = gateway.chat(ask("fake-chat"))
    assert response.content.startswith("Echo:")
    rows = ledger(deployment)
    assert [(r.attempt, r.status, r.is_final, r.http_status) for r in rows] == [
        (1, "error", False, 503),
        (2, "ok", True, 200),
    ]


def test_client_error_is_not_retried_nor_failed_over(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    deployment_factory("primary")
    deployment_factory("backup")
    Fallback.objects.create(
        model_name="primary", kind="general", position=0, fallback_model_name="backup"
    )
    fake_upstream.inject(Fault(status=400, message="bad request body"))
    with pytest.raises(ProviderError, match="bad request body") as caught:
        gateway.chat(ask("primary"))
    assert caught.value.status == 400
    assert len(fake_upstream.requests) == 1


def test_falls_back_to_another_model_after_the_retries(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    # given a primary that keeps failing and a configured fallback
    policy(num_retries=1)
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


def test_stream_fails_over_before_the_first_token(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    policy(num_retries=0)
    deployment_factory("primary", upstream_model="primary-up")
    deployment_factory("backup", upstream_model="backup-up")
    Fallback.objects.create(
        model_name="primary", kind="general", position=0, fallback_model_name="backup"
    )
    fake_upstream.inject(Fault(status=503))
    text = "".join(c.delta for c in gateway.stream(ask("primary", "hi")))
    assert text == "Echo: hi"
    assert [r.body["model"] for r in fake_upstream.requests] == ["primary-up", "backup-up"]


def test_repeated_failures_cool_a_deployment_down_for_every_process(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    # given two deployments of one model, one of them unreachable
    policy(num_retries=1, allowed_fails=1, cooldown_seconds=30)
    broken = deployment_factory("pair", api_base="http://127.0.0.1:9/v1", weight=1000)
    healthy = deployment_factory("pair")
    # when requests keep coming
    for _ in range(4):
        assert gateway.chat(ask("pair")).deployment_id == healthy.pk
    # then the broken one rests, and Redis tells the other processes so
    assert get_runtime().cooling(broken.pk)
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert client.ttl(COOLDOWN_KEY.format(broken.pk)) > 0
    client.close()
    broken_attempts = [r for r in ledger(broken, healthy) if r.deployment_id == broken.pk]
    assert len(broken_attempts) == 1


def test_no_cooldown_for_the_only_deployment_or_client_errors(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    policy(num_retries=0, allowed_fails=1)
    only = deployment_factory("solo")
    fake_upstream.inject(Fault(status=503))
    with pytest.raises(ProviderError):
        gateway.chat(ask("solo"))
    assert not get_runtime().cooling(only.pk)
    first = deployment_factory("duo")
    deployment_factory("duo")
    fake_upstream.inject(Fault(status=400, times=5))
    with pytest.raises(ProviderError):
        gateway.chat(ask("duo"))
    assert not get_runtime().cooling(first.pk)


def test_429_retry_after_is_honoured(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    policy(num_retries=1)
    deployment_factory()
    fake_upstream.inject(Fault(status=429, retry_after=0.4))
    started = time.monotonic()
    gateway.chat(ask("fake-chat"))
    assert time.monotonic() - started >= 0.4


def test_everything_happens_inside_the_overall_timeout(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    policy(num_retries=3, timeout_seconds=0.5)
    deployment_factory()
    fake_upstream.inject(Fault(latency=3.0, times=5))
    started = time.monotonic()
    with pytest.raises(ProviderError, match="did not answer in time"):
        gateway.chat(ask("fake-chat"))
    assert time.monotonic() - started < 1.5


def test_context_window_fallback_is_decided_before_the_call(
    deployment_factory: DeploymentFactory, fake_upstream: FakeUpstream
) -> None:
    small = deployment_factory("small", max_input_tokens=50)
    big = deployment_factory("big", max_input_tokens=100_000)
    Fallback.objects.create(
        model_name="small", kind="context_window", position=0, fallback_model_name="big"
    )
    long_text = "회의록 " * 400
    assert gateway.chat(ask("small", "short")).deployment_id == small.pk
    assert gateway.chat(ask("small", long_text)).deployment_id == big.pk
    Fallback.objects.all().delete()
    with pytest.raises(ContextWindowExceeded):
        gateway.chat(ask("small", long_text))
    assert len(fake_upstream.requests) == 2


def test_strategies_order_deployments(deployment_factory: DeploymentFactory) -> None:
    light = deployment_factory("group", weight=1)
    heavy = deployment_factory("group", weight=9)
    runtime = get_runtime()
    entries = runtime.snapshot_sync().groups["group"]
    rng = random.Random(7)
    firsts = [
        order_deployments(entries, strategy="simple-shuffle", runtime=runtime, rng=rng)[
            0
        ].deployment_id
        for _ in range(2000)
    ]
    assert 0.85 < firsts.count(heavy.pk) / len(firsts) < 0.95
    runtime.stats.inflight[heavy.pk] = 5
    assert (
        order_deployments(entries, strategy="least-busy", runtime=runtime)[0].deployment_id
        == light.pk
    )
    runtime.stats.inflight.clear()
    runtime.stats.latency_ewma.update({light.pk: 2.0, heavy.pk: 0.1})
    assert (
        order_deployments(entries, strategy="latency-based-routing", runtime=runtime)[
            0
        ].deployment_id
        == heavy.pk
    )
    runtime.stats.latency_ewma.clear()


def test_unreachable_endpoint_is_a_useful_error(deployment_factory: DeploymentFactory) -> None:
    policy(num_retries=0)
    deployment_factory(api_base="http://127.0.0.1:9/v1")
    with pytest.raises(ProviderError, match="could not be reached"):
        gateway.chat(ask("fake-chat"))


@pytest.mark.django_db
def test_unknown_model() -> None:
    with pytest.raises(ModelNotFound):
        gateway.chat(ask("nope"))


def test_a_key_limited_to_other_models_is_refused(deployment_factory: DeploymentFactory) -> None:
    deployment_factory()
    caller = Caller(user_id=None, allowed_models=frozenset({"other"}))
    with pytest.raises(ModelNotAllowed):
        gateway.chat(ask("fake-chat"), caller)
    assert gateway.models(caller) == []


def test_embeddings_are_split_into_the_providers_batch_size(
    deployment_factory: DeploymentFactory,
    fake_upstream: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from providers.adapters import get_adapter
    from providers.types import EmbeddingRequest

    deployment_factory("embedder", mode="embedding")
    monkeypatch.setattr(get_adapter("openai"), "max_embed_batch", 2)
    texts = [f"문장 {i}" for i in range(5)]
    response = gateway.embed(EmbeddingRequest(model="embedder", inputs=texts, dimensions=8))
    assert len(response.vectors) == 5
    assert [len(r.body["input"]) for r in fake_upstream.requests] == [2, 2, 1]
    single = gateway.embed(EmbeddingRequest(model="embedder", inputs=["문장 3"], dimensions=8))
    assert single.vectors[0] == response.vectors[3]
