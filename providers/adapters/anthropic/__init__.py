"""Anthropic Messages API (``POST {api_base}/v1/messages``).

``request`` builds the body, ``response`` parses answers and errors, ``stream`` the
event stream; this module holds the adapter the registry imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from providers import jsoncodec
from providers.adapters.anthropic.request import request_body, wants_json
from providers.adapters.anthropic.response import map_error, parse_json, parse_response
from providers.adapters.anthropic.stream import AnthropicStreamParser
from providers.adapters.base import HttpCall
from providers.errors import ConfigError

if TYPE_CHECKING:
    import httpx

    from providers.errors import ProviderError
    from providers.types import (
        ChatRequest,
        ChatResponse,
        DeploymentTarget,
        EmbeddingRequest,
        EmbeddingResponse,
    )

DEFAULT_BASE = "https://api.anthropic.com"
API_VERSION = "2023-06-01"

__all__ = ["AnthropicAdapter"]


class AnthropicAdapter:
    """``x-api-key`` auth; ``anthropic-version`` from the deployment's api_version."""

    def messages_url(self, target: DeploymentTarget) -> str:
        """``api_base`` is the origin (LiteLLM's convention); a base already ending in
        ``/v1`` or ``/v1/messages`` is accepted as well."""
        base = (target.api_base or DEFAULT_BASE).rstrip("/")
        if base.endswith("/v1/messages"):
            return base
        if base.endswith("/v1"):
            return f"{base}/messages"
        return f"{base}/v1/messages"

    def headers(self, target: DeploymentTarget) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "anthropic-version": target.api_version or API_VERSION,
        }
        if target.api_key:
            headers["x-api-key"] = target.api_key
        return headers

    def build_chat_call(
        self, target: DeploymentTarget, request: ChatRequest, *, stream: bool
    ) -> HttpCall:
        body = request_body(request, model=target.upstream_model, stream=stream)
        return HttpCall(
            url=self.messages_url(target),
            headers=self.headers(target),
            body=jsoncodec.dumps(body),
        )

    def parse_chat_response(
        self, body: bytes, *, request: ChatRequest, target: DeploymentTarget
    ) -> ChatResponse:
        return parse_response(
            parse_json(body),
            model=request.model,
            deployment_id=target.deployment_id,
            json_mode=wants_json(request),
        )

    def stream_parser(
        self, *, request: ChatRequest, target: DeploymentTarget
    ) -> AnthropicStreamParser:
        return AnthropicStreamParser(model=request.model, json_mode=wants_json(request))

    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
        return map_error(status, body, headers)

    def build_embed_call(self, target: DeploymentTarget, request: EmbeddingRequest) -> HttpCall:
        raise ConfigError(
            f"Anthropic has no embeddings API: model {request.model!r} cannot embed; "
            "configure an embedding model from another provider"
        )

    def parse_embed_response(
        self, body: bytes, *, request: EmbeddingRequest, target: DeploymentTarget
    ) -> EmbeddingResponse:
        raise ConfigError("Anthropic has no embeddings API")

    async def authorize(
        self, call: HttpCall, target: DeploymentTarget, client: httpx.AsyncClient
    ) -> HttpCall:
        return call
