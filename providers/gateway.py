"""The one entry point other apps use to call models: chat, stream, embed, models.

Async first (the websocket consumer and the ``/v1`` API run on an event loop);
``chat``/``stream``/``embed`` are blocking wrappers for Celery tasks and the shell.
Tries each enabled deployment of the requested model, retrying retryable
failures, then the configured fallback models. A stream is never retried or
switched once its first chunk has been handed to the caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncGenerator, Iterator
from typing import TYPE_CHECKING

from asgiref.sync import async_to_sync, sync_to_async

from providers.adapters import get_adapter
from providers.config_import import deployment_key_aad
from providers.errors import GatewayError, ModelNotFound, ProviderError
from providers.http import build_async_client
from providers.runtime import get_runtime
from providers.secrets import resolve_env_reference, secret_decrypt
from providers.selectors import deployment_list_for_model, fallback_model_names, model_info_list
from providers.transport import open_stream, send_chat, send_embed
from providers.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    DeploymentTarget,
    EmbeddingRequest,
    EmbeddingResponse,
    ModelInfo,
)

if TYPE_CHECKING:
    import httpx

    from providers.models import Deployment

logger = logging.getLogger(__name__)
RETRY_BACKOFF_SECONDS = 0.25
MAX_ATTEMPTS_PER_DEPLOYMENT = 2


def models(*, mode: str | None = None) -> list[ModelInfo]:
    return model_info_list(mode=mode)


def deployment_target(deployment: Deployment) -> DeploymentTarget:
    """Resolve env references and decrypt secrets, in memory, for one call."""
    what = f"model {deployment.model_name!r}"
    credentials: dict[str, str] = {}
    if deployment.secrets_ciphertext:
        credentials.update(
            json.loads(
                secret_decrypt(
                    bytes(deployment.secrets_ciphertext),
                    associated_data=deployment_key_aad(deployment.model_name, deployment.provider),
                )
            )
        )
    for name, env_name in deployment.secret_env.items():
        credentials[name] = resolve_env_reference(f"os.environ/{env_name}", what=what)
    params = {
        key: resolve_env_reference(value, what=what) if isinstance(value, str) else value
        for key, value in deployment.params.items()
    }
    return DeploymentTarget(
        deployment_id=deployment.pk,
        provider=deployment.provider,
        upstream_model=deployment.upstream_model,
        api_base=resolve_env_reference(deployment.api_base, what=what),
        api_key=credentials.pop("api_key", ""),
        api_version=deployment.api_version,
        timeout_seconds=deployment.timeout_seconds or 600.0,
        credentials=credentials,
        params=params,
    )


def _targets(model_name: str) -> list[DeploymentTarget]:
    deployments = deployment_list_for_model(model_name)
    for fallback in fallback_model_names(model_name):
        deployments.extend(deployment_list_for_model(fallback))
    if not deployments:
        raise ModelNotFound(f"The model {model_name!r} does not exist or is not enabled")
    return [deployment_target(d) for d in deployments]


async def achat(request: ChatRequest, *, client: httpx.AsyncClient | None = None) -> ChatResponse:
    http = client or get_runtime().client()
    last_error: GatewayError | None = None
    for target in await sync_to_async(_targets)(request.model):
        adapter = get_adapter(target.provider)
        for attempt in range(MAX_ATTEMPTS_PER_DEPLOYMENT):
            try:
                return await send_chat(http, adapter, target, request)
            except ProviderError as exc:
                last_error = exc
                logger.warning(
                    "deployment %s failed (attempt %s): %s",
                    target.deployment_id,
                    attempt + 1,
                    exc.message,
                )
                if not exc.retryable:
                    break
                await asyncio.sleep(min(exc.retry_after or RETRY_BACKOFF_SECONDS, 5.0))
    raise last_error or ModelNotFound(f"No deployment could serve {request.model!r}")


async def astream(
    request: ChatRequest,
    *,
    client: httpx.AsyncClient | None = None,
    targets: list[DeploymentTarget] | None = None,
) -> AsyncGenerator[ChatChunk, None]:
    """``targets`` lets sync callers resolve the deployments on their own thread."""
    http = client or get_runtime().client()
    last_error: GatewayError | None = None
    if targets is None:
        targets = await sync_to_async(_targets)(request.model)
    for target in targets:
        adapter = get_adapter(target.provider)
        started = False
        chunks = open_stream(http, adapter, target, request)
        try:
            async for chunk in chunks:
                started = True
                yield chunk
            return
        except ProviderError as exc:
            if started:
                raise
            last_error = exc
            logger.warning(
                "deployment %s failed before streaming: %s", target.deployment_id, exc.message
            )
        finally:
            await chunks.aclose()
    raise last_error or ModelNotFound(f"No deployment could serve {request.model!r}")


async def aembed(
    request: EmbeddingRequest, *, client: httpx.AsyncClient | None = None
) -> EmbeddingResponse:
    http = client or get_runtime().client()
    last_error: GatewayError | None = None
    for target in await sync_to_async(_targets)(request.model):
        try:
            return await send_embed(http, get_adapter(target.provider), target, request)
        except ProviderError as exc:
            last_error = exc
            logger.warning("deployment %s failed to embed: %s", target.deployment_id, exc.message)
            if not exc.retryable:
                break
    raise last_error or ModelNotFound(f"No deployment could serve {request.model!r}")


def chat(request: ChatRequest) -> ChatResponse:
    """Blocking ``achat`` for sync code (Celery tasks, the shell), with its own client."""

    async def run() -> ChatResponse:
        async with build_async_client() as client:
            return await achat(request, client=client)

    return async_to_sync(run)()


def embed(request: EmbeddingRequest) -> EmbeddingResponse:
    async def run() -> EmbeddingResponse:
        async with build_async_client() as client:
            return await aembed(request, client=client)

    return async_to_sync(run)()


def stream(request: ChatRequest) -> Iterator[ChatChunk]:
    """Blocking ``astream`` for sync code: the stream runs on a private event loop."""
    targets = _targets(request.model)
    loop = asyncio.new_event_loop()
    client = build_async_client()
    chunks = astream(request, client=client, targets=targets)
    try:
        while True:
            try:
                yield loop.run_until_complete(chunks.__anext__())
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(chunks.aclose())
        loop.run_until_complete(client.aclose())
        loop.close()
