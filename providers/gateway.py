"""The one entry point other apps use to call models: ``chat``, ``stream``, ``models``.

Tries each enabled deployment of the requested model, retrying retryable
failures, then the configured fallback models. A stream is never retried or
switched once its first chunk has been handed to the caller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from providers.adapters import get_adapter
from providers.config_import import deployment_key_aad
from providers.errors import GatewayError, ModelNotFound, ProviderError
from providers.http import build_client
from providers.secrets import resolve_env_reference, secret_decrypt
from providers.selectors import deployment_list_for_model, fallback_model_names, model_info_list
from providers.types import ChatChunk, ChatRequest, ChatResponse, DeploymentTarget, ModelInfo

if TYPE_CHECKING:
    import httpx

    from providers.models import Deployment

logger = logging.getLogger(__name__)
RETRY_BACKOFF_SECONDS = 0.25


def models(*, mode: str | None = None) -> list[ModelInfo]:
    return model_info_list(mode=mode)


def deployment_target(deployment: Deployment) -> DeploymentTarget:
    """Resolve env references and decrypt the key, in memory, for one call."""
    what = f"model {deployment.model_name!r}"
    api_key = ""
    if deployment.api_key_env:
        api_key = resolve_env_reference(f"os.environ/{deployment.api_key_env}", what=what)
    elif deployment.api_key_ciphertext:
        api_key = secret_decrypt(
            bytes(deployment.api_key_ciphertext),
            associated_data=deployment_key_aad(deployment.model_name, deployment.provider),
        )
    return DeploymentTarget(
        deployment_id=deployment.pk,
        provider=deployment.provider,
        upstream_model=deployment.upstream_model,
        api_base=resolve_env_reference(deployment.api_base, what=what),
        api_key=api_key,
        api_version=deployment.api_version,
        timeout_seconds=deployment.timeout_seconds or 600.0,
    )


def _candidates(model_name: str) -> list[Deployment]:
    deployments = deployment_list_for_model(model_name)
    for fallback in fallback_model_names(model_name):
        deployments.extend(deployment_list_for_model(fallback))
    if not deployments:
        raise ModelNotFound(f"The model {model_name!r} does not exist or is not enabled")
    return deployments


def chat(request: ChatRequest, *, client: httpx.Client | None = None) -> ChatResponse:
    owned = client is None
    http = client or build_client()
    last_error: GatewayError | None = None
    try:
        for deployment in _candidates(request.model):
            target = deployment_target(deployment)
            adapter = get_adapter(target.provider)
            for attempt in range(2):
                try:
                    return adapter.chat(http, target, request)
                except ProviderError as exc:
                    last_error = exc
                    logger.warning(
                        "deployment %s failed (attempt %s): %s",
                        deployment.pk,
                        attempt + 1,
                        exc.message,
                    )
                    if not exc.retryable:
                        break
                    time.sleep(min(exc.retry_after or RETRY_BACKOFF_SECONDS, 5.0))
    finally:
        if owned:
            http.close()
    raise last_error or ModelNotFound(f"No deployment could serve {request.model!r}")


def stream(request: ChatRequest, *, client: httpx.Client | None = None) -> Iterator[ChatChunk]:
    owned = client is None
    http = client or build_client()
    last_error: GatewayError | None = None
    try:
        for deployment in _candidates(request.model):
            target = deployment_target(deployment)
            adapter = get_adapter(target.provider)
            started = False
            try:
                for chunk in adapter.stream(http, target, request):
                    started = True
                    yield chunk
                return
            except ProviderError as exc:
                if started:
                    raise
                last_error = exc
                logger.warning(
                    "deployment %s failed before streaming: %s", deployment.pk, exc.message
                )
                if not exc.retryable:
                    continue
    finally:
        if owned:
            http.close()
    raise last_error or ModelNotFound(f"No deployment could serve {request.model!r}")
