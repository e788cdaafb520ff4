"""``gemini`` (Google AI Studio, an API key) and ``vertex_ai`` (Vertex AI, a service
account) adapters: one GenerateContent wire format, two URL shapes and credentials.

``api_base`` (when a deployment sets it) replaces the scheme and host, for a proxy
or the fake upstream; a base that already ends in an API version is used as is.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from providers import jsoncodec
from providers.adapters.base import HttpCall
from providers.adapters.gemini.request import request_body
from providers.adapters.gemini.response import (
    map_error,
    parse_embeddings,
    parse_json,
    parse_response,
)
from providers.adapters.gemini.stream import GeminiStreamParser
from providers.adapters.gemini.vertex_auth import AccessTokenCache, service_account
from providers.errors import ConfigError
from providers.types import EmbeddingResponse

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

    from providers.errors import ProviderError
    from providers.types import (
        ChatRequest,
        ChatResponse,
        DeploymentTarget,
        EmbeddingRequest,
    )

_VERSIONED = re.compile(r"/v\d+(?:alpha|beta)?\d*$")
_PROJECT = re.compile(r"^[a-z][a-z0-9.:-]*$")
_LOCATION = re.compile(r"^[a-z][a-z0-9-]*$")


def dumps(value: Any) -> bytes:
    return jsoncodec.dumps(value)


def versioned_base(api_base: str, default: str, version: str) -> str:
    base = (api_base or default).rstrip("/")
    return base if _VERSIONED.search(base) else f"{base}/{version}"


class GeminiAdapter:
    """Google AI Studio: ``{base}/v1beta/models/{model}:generateContent`` with
    ``x-goog-api-key`` (a header, so the key stays out of URLs and access logs)."""

    max_embed_batch = 100  # batchEmbedContents limit

    DEFAULT_BASE = "https://generativelanguage.googleapis.com"
    DEFAULT_VERSION = "v1beta"

    def model_url(self, target: DeploymentTarget, action: str) -> str:
        model = quote(target.upstream_model.removeprefix("models/"), safe="")
        base = versioned_base(
            target.api_base, self.DEFAULT_BASE, target.api_version or self.DEFAULT_VERSION
        )
        return f"{base}/models/{model}:{action}"

    def auth_headers(self, target: DeploymentTarget) -> dict[str, str]:
        return {"x-goog-api-key": target.api_key} if target.api_key else {}

    def _call(self, target: DeploymentTarget, url: str, body: Any) -> HttpCall:
        headers = {"Content-Type": "application/json", **self.auth_headers(target)}
        return HttpCall(url=url, headers=headers, body=dumps(body))

    def build_chat_call(
        self, target: DeploymentTarget, request: ChatRequest, *, stream: bool
    ) -> HttpCall:
        body = request_body(request, upstream_model=target.upstream_model, params=target.params)
        if stream:
            url = self.model_url(target, "streamGenerateContent") + "?alt=sse"
        else:
            url = self.model_url(target, "generateContent")
        return self._call(target, url, body)

    def parse_chat_response(
        self, body: bytes, *, request: ChatRequest, target: DeploymentTarget
    ) -> ChatResponse:
        return parse_response(
            parse_json(body), model=request.model, deployment_id=target.deployment_id
        )

    def stream_parser(
        self, *, request: ChatRequest, target: DeploymentTarget
    ) -> GeminiStreamParser:
        return GeminiStreamParser(model=request.model)

    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
        return map_error(status, body, headers)

    def build_embed_call(self, target: DeploymentTarget, request: EmbeddingRequest) -> HttpCall:
        model = f"models/{target.upstream_model.removeprefix('models/')}"
        rows: list[dict[str, Any]] = []
        for text in request.inputs:
            row: dict[str, Any] = {"model": model, "content": {"parts": [{"text": text}]}}
            if request.dimensions is not None:
                row["outputDimensionality"] = request.dimensions
            rows.append(row)
        url = self.model_url(target, "batchEmbedContents")
        return self._call(target, url, {"requests": rows})

    def parse_embed_response(
        self, body: bytes, *, request: EmbeddingRequest, target: DeploymentTarget
    ) -> EmbeddingResponse:
        vectors, usage = parse_embeddings(parse_json(body), expected=len(request.inputs))
        return EmbeddingResponse(model=request.model, vectors=vectors, usage=usage)

    async def authorize(
        self, call: HttpCall, target: DeploymentTarget, client: httpx.AsyncClient
    ) -> HttpCall:
        return call


class VertexAdapter(GeminiAdapter):
    """Vertex AI: ``https://{location}-aiplatform.googleapis.com/v1/projects/{project}/
    locations/{location}/publishers/google/models/{model}:generateContent`` (location
    ``global`` on ``aiplatform.googleapis.com``) with a service account's access token.

    Without ``vertex_credentials`` but with an ``api_key``, Vertex's express mode:
    ``/v1/publishers/google/models/{model}:...`` with the key in ``x-goog-api-key``.
    """

    max_embed_batch = 250  # :predict instances limit

    DEFAULT_VERSION = "v1"

    def __init__(self) -> None:
        self.tokens = AccessTokenCache()

    @staticmethod
    def _express(target: DeploymentTarget) -> bool:
        return not target.credentials.get("vertex_credentials") and bool(target.api_key)

    def location(self, target: DeploymentTarget) -> str:
        location = str(target.params.get("vertex_location") or "us-central1")
        if not _LOCATION.match(location):
            raise ConfigError(f"vertex_location {location!r} is not a Google Cloud location")
        return location

    def project(self, target: DeploymentTarget) -> str:
        project = str(target.params.get("vertex_project") or "")
        raw = target.credentials.get("vertex_credentials")
        if not project and raw:
            project = service_account(raw).project_id
        if not project:
            raise ConfigError(
                "A vertex_ai deployment needs vertex_project or a service account with project_id"
            )
        if not _PROJECT.match(project):
            raise ConfigError(f"vertex_project {project!r} is not a Google Cloud project id")
        return project

    def model_url(self, target: DeploymentTarget, action: str) -> str:
        model = target.upstream_model
        if model.startswith("claude"):
            raise ConfigError(
                "vertex_ai serves Google's models here; partner models such as Claude "
                "need their own wire format"
            )
        model = quote(model, safe="")
        version = target.api_version or self.DEFAULT_VERSION
        if self._express(target):
            base = versioned_base(target.api_base, "https://aiplatform.googleapis.com", version)
            return f"{base}/publishers/google/models/{model}:{action}"
        location = self.location(target)
        host = (
            "aiplatform.googleapis.com"
            if location == "global"
            else f"{location}-aiplatform.googleapis.com"
        )
        base = versioned_base(target.api_base, f"https://{host}", version)
        project = self.project(target)
        return (
            f"{base}/projects/{project}/locations/{location}"
            f"/publishers/google/models/{model}:{action}"
        )

    def auth_headers(self, target: DeploymentTarget) -> dict[str, str]:
        return super().auth_headers(target) if self._express(target) else {}

    def build_embed_call(self, target: DeploymentTarget, request: EmbeddingRequest) -> HttpCall:
        body: dict[str, Any] = {"instances": [{"content": text} for text in request.inputs]}
        if request.dimensions is not None:
            body["parameters"] = {"outputDimensionality": request.dimensions}
        return self._call(target, self.model_url(target, "predict"), body)

    async def authorize(
        self, call: HttpCall, target: DeploymentTarget, client: httpx.AsyncClient
    ) -> HttpCall:
        """Add a (cached) access token for the deployment's service account."""
        raw = target.credentials.get("vertex_credentials")
        if not raw:
            if target.api_key:
                return call
            raise ConfigError(
                "A vertex_ai deployment needs vertex_credentials (a service-account JSON "
                "or its path) or an api_key"
            )
        token = await self.tokens.token(service_account(raw), client)
        return replace(call, headers={**call.headers, "Authorization": f"Bearer {token}"})
