"""The one entry point other apps use to call models: chat, stream, embed, models.

Async first (the websocket consumer and the ``/v1`` API run on an event loop);
``chat``/``stream``/``embed`` are blocking wrappers for Celery tasks and the
shell. Every attempt is metered in the usage ledger. A stream is never retried
or switched to another deployment once its first chunk has reached the caller.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from asgiref.sync import async_to_sync
from django.conf import settings

from providers.adapters import get_adapter
from providers.attempt import RequestScreens, own_key_for, own_key_use_record, with_own_key
from providers.budgets import ratelimit
from providers.budgets.guard import (
    CallGuard,
    TokenEstimate,
    chat_estimate,
    embedding_estimate,
    guard_close,
    guard_open,
)
from providers.budgets.table import LimitRule
from providers.errors import GatewayError, ModelNotAllowed, ModelNotFound, ProviderError
from providers.http import build_async_client
from providers.ids import new_request_id
from providers.keys import Caller
from providers.ledger import cost_usd
from providers.meter import Meter
from providers.router import backoff_seconds, note_failure, order_deployments, plan_request
from providers.runtime import get_runtime
from providers.transport import open_stream, send_chat, send_embed
from providers.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    DeploymentTarget,
    EmbeddingRequest,
    EmbeddingResponse,
    ModelInfo,
    Usage,
)

if TYPE_CHECKING:
    from providers.http import ProviderClient
    from providers.router import Plan
    from providers.runtime import GatewayRuntime
    from providers.snapshot import DeploymentEntry, Snapshot

logger = logging.getLogger(__name__)
SYSTEM_CALLER = Caller(user_id=None, source="system")
T = TypeVar("T")
P = TypeVar("P")


async def amodels(caller: Caller = SYSTEM_CALLER, *, mode: str | None = None) -> list[ModelInfo]:
    snapshot = await get_runtime().snapshot()
    return [m for m in snapshot.model_infos(mode) if caller.may_use(m.name)]


def models(caller: Caller = SYSTEM_CALLER, *, mode: str | None = None) -> list[ModelInfo]:
    snapshot = get_runtime().snapshot_sync()
    return [m for m in snapshot.model_infos(mode) if caller.may_use(m.name)]


def _plan(
    snapshot: Snapshot,
    caller: Caller,
    request: ChatRequest | None,
    *,
    model: str,
    timeout: float | None,
) -> Plan:
    """Unknown models are 404 for everyone; known ones the caller may not use are 403."""
    if model not in snapshot.groups:
        raise ModelNotFound(f"The model '{model}' does not exist or is not enabled")
    if not caller.may_use(model):
        raise ModelNotAllowed(f"This key may not use the model '{model}'")
    return plan_request(snapshot, request, model=model, timeout=timeout)


async def _deployment_slot(
    runtime: GatewayRuntime, ordered: list[DeploymentEntry], start: int, tokens: TokenEstimate
) -> tuple[DeploymentEntry, ratelimit.Grant | None]:
    """The first deployment from ``start`` (round) whose own rpm/tpm has room."""
    limited: ratelimit.RateLimited | None = None
    for offset in range(len(ordered)):
        entry = ordered[(start + offset) % len(ordered)]
        if entry.rpm is None and entry.tpm is None:
            return entry, None
        rule = LimitRule(f"deployment:{entry.deployment_id}", entry.rpm, entry.tpm)
        try:
            return entry, await ratelimit.acquire(runtime.redis(), [rule], tokens=tokens.prompt)
        except ratelimit.RateLimited as exc:
            limited = exc
    assert limited is not None  # noqa: S101 - the loop ran at least once
    raise limited


async def _attempts(
    runtime: GatewayRuntime,
    snapshot: Snapshot,
    plan: Plan,
    guard: CallGuard,
    tokens: TokenEstimate,
    call: Callable[[DeploymentEntry, int], Awaitable[T]],
) -> T:
    """Run ``call`` over the plan's deployments until one succeeds (non-streaming)."""
    last_error: GatewayError | None = None
    attempt = 0
    for group in plan.groups:
        entries = snapshot.groups[group]
        ordered = order_deployments(entries, strategy=plan.policy.strategy, runtime=runtime)
        if not ordered:
            last_error = ProviderError(entries[0].problem or "No usable deployment", status=500)
            continue
        for index in range(plan.policy.num_retries + 1):
            try:
                entry, grant = await _deployment_slot(runtime, ordered, index, tokens)
            except ratelimit.RateLimited as exc:
                last_error = exc
                break  # every deployment of this group is at its limit: next group
            attempt += 1
            tokens_before = guard.tally.tokens
            try:
                return await call(entry, attempt)
            except ProviderError as exc:
                last_error = exc
                if exc.retryable:
                    note_failure(runtime, entry, plan.policy, group_size=len(entries))
                elif exc.status in (400, 413, 422):
                    raise  # the request itself is wrong: another deployment will not help
                else:
                    break  # this group's deployments are misconfigured: next group
                pause = backoff_seconds(index, exc) if len(ordered) == 1 else 0.0
                if time.monotonic() + pause >= plan.deadline:
                    raise
                await asyncio.sleep(pause)
            finally:
                if grant is not None:
                    used = guard.tally.tokens - tokens_before
                    await ratelimit.adjust(runtime.redis(), grant, actual_tokens=used)
    raise last_error or ModelNotFound("No deployment could serve the request")


def _metered(
    runtime: GatewayRuntime,
    snapshot: Snapshot,
    plan: Plan,
    caller: Caller,
    operation: str,
    guard: CallGuard,
    prepare: Callable[[DeploymentEntry], Awaitable[P]],
    send: Callable[[DeploymentEntry, DeploymentTarget, P, float], Awaitable[T]],
    usage_of: Callable[[T], Usage],
    request_id: str,
) -> Callable[[DeploymentEntry, int], Awaitable[T]]:
    """One non-streamed attempt, timed and metered in the ledger whatever its outcome.
    ``prepare`` makes what is sent to this deployment (the request as the personal
    data guard lets it leave); it may refuse before anything is sent."""

    async def call(entry: DeploymentEntry, attempt: int) -> T:
        prepared = await prepare(entry)
        meter = Meter(
            request_id,
            attempt,
            caller,
            operation,
            entry.model_name,
            entry,
            False,
            time.monotonic(),
            guard.tally,
        )
        target = _target(entry)
        own_key = await own_key_for(entry, caller)
        if own_key is not None:
            target, meter.own_key_id = with_own_key(target, own_key), own_key.credential_id
        runtime.stats.started(entry.deployment_id)
        status = "error"
        try:
            result = await send(entry, target, prepared, plan.deadline - time.monotonic())
            status = "ok"
        except ProviderError as exc:
            meter.record(runtime, snapshot, usage=None, status="error", error=exc, final=False)
            raise
        except asyncio.CancelledError:
            status = "cancelled"
            meter.record(runtime, snapshot, usage=None, status="cancelled", error=None, final=True)
            raise
        finally:
            if own_key is not None:
                await own_key_use_record(
                    caller=caller, opened=own_key, entry=entry, request_id=request_id, status=status
                )
        meter.first_token = time.monotonic()
        meter.record(runtime, snapshot, usage=usage_of(result), status="ok", error=None, final=True)
        return result

    return call


def _target(entry: DeploymentEntry) -> DeploymentTarget:
    assert entry.target is not None  # noqa: S101 - order_deployments drops the others
    return entry.target


async def achat(
    request: ChatRequest,
    caller: Caller = SYSTEM_CALLER,
    *,
    client: ProviderClient | None = None,
    timeout: float | None = None,
) -> ChatResponse:
    runtime = get_runtime()
    http = client or runtime.client()
    snapshot = await runtime.snapshot()
    plan = _plan(snapshot, caller, request, model=request.model, timeout=timeout)
    request_id = new_request_id()
    tokens = chat_estimate(request, snapshot.groups[request.model][0].provider)
    guard = await guard_open(runtime, snapshot, plan, caller, request_id=request_id, tokens=tokens)
    screens = RequestScreens(caller)
    call = _metered(
        runtime,
        snapshot,
        plan,
        caller,
        "chat",
        guard,
        lambda entry: screens.chat_for(entry, request),
        lambda entry, target, screened, left: send_chat(
            http, get_adapter(entry.provider), target, screened, deadline_seconds=left
        ),
        lambda response: response.usage,
        request_id,
    )
    try:
        return await _attempts(runtime, snapshot, plan, guard, tokens, call)
    finally:
        await guard_close(runtime, guard)


async def astream(
    request: ChatRequest,
    caller: Caller = SYSTEM_CALLER,
    *,
    client: ProviderClient | None = None,
    timeout: float | None = None,
) -> AsyncGenerator[ChatChunk, None]:
    batches = astream_batches(request, caller, client=client, timeout=timeout)
    try:
        async for batch in batches:
            for chunk in batch:
                yield chunk
    finally:
        await batches.aclose()


async def astream_batches(
    request: ChatRequest,
    caller: Caller = SYSTEM_CALLER,
    *,
    client: ProviderClient | None = None,
    timeout: float | None = None,
) -> AsyncGenerator[list[ChatChunk], None]:
    """``astream`` by network read: the chunks that arrived together, in one list (a
    relay then writes them in one go). Never an empty list."""
    runtime = get_runtime()
    http = client or runtime.client()
    snapshot = await runtime.snapshot()
    plan = _plan(snapshot, caller, request, model=request.model, timeout=timeout)
    request_id = new_request_id()
    tokens = chat_estimate(request, snapshot.groups[request.model][0].provider)
    guard = await guard_open(runtime, snapshot, plan, caller, request_id=request_id, tokens=tokens)
    try:
        async for batch in _stream_attempts(
            runtime, snapshot, plan, caller, request, http, guard, request_id, tokens
        ):
            yield batch
    finally:
        await guard_close(runtime, guard)


async def _stream_attempts(
    runtime: GatewayRuntime,
    snapshot: Snapshot,
    plan: Plan,
    caller: Caller,
    request: ChatRequest,
    http: ProviderClient,
    guard: CallGuard,
    request_id: str,
    tokens: TokenEstimate,
) -> AsyncGenerator[list[ChatChunk], None]:
    last_error: GatewayError | None = None
    attempt = 0
    screens = RequestScreens(caller)
    for group in plan.groups:
        entries = snapshot.groups[group]
        ordered = order_deployments(entries, strategy=plan.policy.strategy, runtime=runtime)
        for index in range(plan.policy.num_retries + 1):
            if not ordered:
                break
            try:
                entry, grant = await _deployment_slot(runtime, ordered, index, tokens)
            except ratelimit.RateLimited as exc:
                last_error = exc
                break
            assert entry.target is not None  # noqa: S101
            screened = await screens.chat_for(entry, request)
            attempt += 1
            meter = Meter(
                request_id,
                attempt,
                caller,
                "chat",
                entry.model_name,
                entry,
                True,
                time.monotonic(),
                guard.tally,
            )
            target = entry.target
            own_key = await own_key_for(entry, caller)
            if own_key is not None:
                target, meter.own_key_id = with_own_key(target, own_key), own_key.credential_id
            runtime.stats.started(entry.deployment_id)
            usage: Usage | None = None
            outcome = "error"
            chunks = open_stream(
                http,
                get_adapter(entry.provider),
                target,
                screened,
                deadline_seconds=plan.deadline - time.monotonic(),
            )
            try:
                async for batch in chunks:
                    if meter.first_token is None:
                        meter.first_token = time.monotonic()
                    for chunk in batch:
                        if chunk.usage is not None:
                            usage = chunk.usage
                    yield batch
                outcome = "ok"
            except ProviderError as exc:
                final = meter.first_token is not None
                meter.record(runtime, snapshot, usage=usage, status="error", error=exc, final=final)
                if final:
                    raise  # text already reached the caller: never switch mid-answer
                last_error = exc
                if exc.retryable:
                    note_failure(runtime, entry, plan.policy, group_size=len(entries))
                elif exc.status in (400, 413, 422):
                    raise
                else:
                    break
                pause = backoff_seconds(index, exc) if len(ordered) == 1 else 0.0
                if time.monotonic() + pause >= plan.deadline:
                    raise
                await asyncio.sleep(pause)
                continue
            except (asyncio.CancelledError, GeneratorExit):
                outcome = "cancelled"
                meter.record(
                    runtime, snapshot, usage=usage, status="cancelled", error=None, final=True
                )
                raise
            finally:
                await chunks.aclose()
                if own_key is not None:
                    await own_key_use_record(
                        caller=caller,
                        opened=own_key,
                        entry=entry,
                        request_id=request_id,
                        status=outcome,
                    )
                if grant is not None:
                    actual = usage.total_tokens if usage else tokens.prompt
                    await ratelimit.adjust(runtime.redis(), grant, actual_tokens=actual)
            meter.record(runtime, snapshot, usage=usage, status="ok", error=None, final=True)
            return
    raise last_error or ModelNotFound("No deployment could serve the request")


async def aembed(
    request: EmbeddingRequest,
    caller: Caller = SYSTEM_CALLER,
    *,
    client: ProviderClient | None = None,
    timeout: float | None = None,
) -> EmbeddingResponse:
    runtime = get_runtime()
    http = client or runtime.client()
    snapshot = await runtime.snapshot()
    plan = _plan(snapshot, caller, None, model=request.model, timeout=timeout)
    request_id = new_request_id()
    tokens = embedding_estimate(request)
    guard = await guard_open(runtime, snapshot, plan, caller, request_id=request_id, tokens=tokens)
    screens = RequestScreens(caller)

    async def inputs(entry: DeploymentEntry) -> EmbeddingRequest:
        texts = await screens.inputs_for(entry, request)
        return request if texts is request.inputs else dataclasses.replace(request, inputs=texts)

    call = _metered(
        runtime,
        snapshot,
        plan,
        caller,
        "embedding",
        guard,
        inputs,
        lambda entry, target, screened, left: send_embed(
            http, get_adapter(entry.provider), target, screened, deadline_seconds=left
        ),
        lambda response: response.usage,
        request_id,
    )
    try:
        return await _attempts(runtime, snapshot, plan, guard, tokens, call)
    finally:
        await guard_close(runtime, guard)


def _blocking(make: Callable[[ProviderClient], Awaitable[T]]) -> T:
    async def run() -> T:
        async with build_async_client() as client:
            return await make(client)

    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return async_to_sync(run)()
        # Sync code on a thread that also runs an event loop cannot block on it;
        # the call runs on a short-lived thread of its own instead.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, run()).result()
    finally:
        if settings.LEDGER_SYNC_FLUSH:
            get_runtime().ledger.flush_sync()


def chat(request: ChatRequest, caller: Caller = SYSTEM_CALLER) -> ChatResponse:
    """Blocking ``achat`` for sync code (Celery tasks, the shell)."""
    return _blocking(lambda client: achat(request, caller, client=client))


def embed(request: EmbeddingRequest, caller: Caller = SYSTEM_CALLER) -> EmbeddingResponse:
    return _blocking(lambda client: aembed(request, caller, client=client))


def stream(request: ChatRequest, caller: Caller = SYSTEM_CALLER) -> Iterator[ChatChunk]:
    """Blocking ``astream`` for sync code: the stream runs on a private event loop in a
    thread of its own, so this works even where the calling thread runs a loop."""
    runtime = get_runtime()
    runtime.snapshot_sync()  # load on this thread: the private loop has no sync helper thread
    loop = asyncio.new_event_loop()
    worker = threading.Thread(target=loop.run_forever, name="gateway-stream", daemon=True)
    worker.start()

    def wait(step: Awaitable[T]) -> T:
        async def run() -> T:
            return await step

        return asyncio.run_coroutine_threadsafe(run(), loop).result()

    client = build_async_client()
    chunks = astream(request, caller, client=client)
    try:
        while True:
            try:
                yield wait(chunks.__anext__())
            except StopAsyncIteration:
                return
    finally:
        wait(chunks.aclose())
        wait(client.aclose())
        loop.call_soon_threadsafe(loop.stop)
        worker.join()
        loop.close()
        if settings.LEDGER_SYNC_FLUSH:
            runtime.ledger.flush_sync()


__all__ = [
    "SYSTEM_CALLER",
    "Caller",
    "achat",
    "aembed",
    "amodels",
    "astream",
    "astream_batches",
    "chat",
    "chat_cost",
    "embed",
    "models",
    "stream",
]


def chat_cost(model_name: str, usage: Usage) -> Decimal:
    """The price of ``usage`` on the model group's first deployment (for showing a
    conversation's cost; the ledger keeps the exact per-deployment figure)."""
    snapshot = get_runtime().snapshot_sync()
    entries = snapshot.groups.get(model_name)
    if not entries:
        return Decimal(0)
    return cost_usd(snapshot.prices_for(entries[0]), usage)
