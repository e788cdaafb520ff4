"""Amazon Bedrock: Converse / ConverseStream for chat, Titan InvokeModel for embeddings,
every call signed with SigV4 in ``authorize`` (the only step that reads the clock)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from providers import jsoncodec
from providers.adapters.base import HttpCall
from providers.adapters.bedrock.request import converse_body
from providers.adapters.bedrock.response import (
    ConverseStreamParser,
    map_error,
    parse_converse,
    parse_json,
)
from providers.adapters.bedrock.sigv4 import AwsCredentials, sign_headers
from providers.errors import ConfigError, ProviderError
from providers.types import (
    ChatRequest,
    ChatResponse,
    DeploymentTarget,
    EmbeddingRequest,
    EmbeddingResponse,
    Usage,
)

if TYPE_CHECKING:
    import httpx

SERVICE = "bedrock"  # the SigV4 signing name of bedrock-runtime
DEFAULT_REGION = "us-east-1"
EVENT_STREAM = "application/vnd.amazon.eventstream"
JSON = "application/json"


def dumps(value: Any) -> bytes:
    return jsoncodec.dumps(value)


def region_of(target: DeploymentTarget) -> str:
    region = target.params.get("aws_region_name") or target.credentials.get("aws_region_name")
    return str(region or DEFAULT_REGION)


def credentials_of(target: DeploymentTarget) -> AwsCredentials:
    """The deployment's AWS keys; a ProviderError naming what is missing (never a value)."""
    access_key = target.credentials.get("aws_access_key_id", "")
    secret_key = target.credentials.get("aws_secret_access_key", "")
    missing = [
        name
        for name, value in (
            ("aws_access_key_id", access_key),
            ("aws_secret_access_key", secret_key),
        )
        if not value
    ]
    if missing:
        raise ProviderError(
            f"Bedrock deployment {target.deployment_id} has no {' or '.join(missing)}; "
            "set them in its litellm_params (for example os.environ/AWS_SECRET_ACCESS_KEY)",
            status=500,
            retryable=False,
            provider_code="missing_credentials",
        )
    return AwsCredentials(
        access_key_id=access_key,
        secret_access_key=secret_key,
        session_token=target.credentials.get("aws_session_token", ""),
    )


def model_id(target: DeploymentTarget) -> str:
    # LiteLLM also accepts ``bedrock/converse/<model>``; the route prefix is not part of the id.
    return target.upstream_model.removeprefix("converse/")


def new_response_id() -> str:
    return f"chatcmpl-bedrock-{uuid.uuid4().hex}"


class BedrockAdapter:
    """``bedrock``: ``target.api_base`` (or ``aws_bedrock_runtime_endpoint``) overrides the
    regional endpoint; the signature always uses the deployment's region."""

    max_embed_batch = 1  # Titan embeds one text per request

    def endpoint(self, target: DeploymentTarget) -> str:
        base = target.api_base or str(target.params.get("aws_bedrock_runtime_endpoint") or "")
        if not base:
            base = f"https://bedrock-runtime.{region_of(target)}.amazonaws.com"
        return base.rstrip("/")

    def model_url(self, target: DeploymentTarget, operation: str) -> str:
        # The id goes in one path segment: ':' and '/' (in ARNs) are percent-encoded.
        return f"{self.endpoint(target)}/model/{quote(model_id(target), safe='')}/{operation}"

    def build_chat_call(
        self, target: DeploymentTarget, request: ChatRequest, *, stream: bool
    ) -> HttpCall:
        body = converse_body(request, model_id=model_id(target))
        operation, accept = ("converse-stream", EVENT_STREAM) if stream else ("converse", JSON)
        headers = {"Content-Type": JSON, "Accept": accept}
        return HttpCall(url=self.model_url(target, operation), headers=headers, body=dumps(body))

    def parse_chat_response(
        self, body: bytes, *, request: ChatRequest, target: DeploymentTarget
    ) -> ChatResponse:
        return parse_converse(
            parse_json(body),
            model=request.model,
            deployment_id=target.deployment_id,
            response_id=new_response_id(),
        )

    def stream_parser(
        self, *, request: ChatRequest, target: DeploymentTarget
    ) -> ConverseStreamParser:
        return ConverseStreamParser(model=request.model, response_id=new_response_id())

    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
        return map_error(status, body, headers)

    def build_embed_call(self, target: DeploymentTarget, request: EmbeddingRequest) -> HttpCall:
        """Amazon Titan text embeddings through InvokeModel. Titan embeds one text per
        call and an adapter builds one call, so a batch is refused rather than
        silently truncated or joined; callers send one input per request."""
        model = model_id(target)
        if "titan-embed-text" not in model:
            raise ConfigError(
                f"Bedrock embeddings are available for Amazon Titan text models only, not {model!r}"
            )
        if len(request.inputs) != 1:
            raise ConfigError(
                "Bedrock Titan embeds one input per request; "
                f"got {len(request.inputs)} inputs, send them one at a time"
            )
        body: dict[str, Any] = {"inputText": request.inputs[0]}
        if "-v1" not in model:  # v2 and later take dimensions and normalisation
            body["normalize"] = True
            if request.dimensions is not None:
                body["dimensions"] = request.dimensions
        headers = {"Content-Type": JSON, "Accept": JSON}
        return HttpCall(url=self.model_url(target, "invoke"), headers=headers, body=dumps(body))

    def parse_embed_response(
        self, body: bytes, *, request: EmbeddingRequest, target: DeploymentTarget
    ) -> EmbeddingResponse:
        payload = parse_json(body)
        try:
            vector = [float(v) for v in payload["embedding"]]
        except (KeyError, TypeError, ValueError):
            raise ProviderError("The embedding response has an unexpected shape") from None
        tokens = int(payload.get("inputTextTokenCount") or 0)
        return EmbeddingResponse(
            model=request.model, vectors=[vector], usage=Usage(prompt_tokens=tokens)
        )

    async def authorize(
        self, call: HttpCall, target: DeploymentTarget, client: httpx.AsyncClient
    ) -> HttpCall:
        signed = sign_headers(
            method=call.method,
            url=call.url,
            headers=call.headers,
            body=call.body,
            credentials=credentials_of(target),
            region=region_of(target),
            service=SERVICE,
            now=datetime.now(UTC),
        )
        return dataclasses.replace(call, headers={**call.headers, **signed})
