"""OpenAI chat-completions wire format: OpenAI, any compatible engine (vLLM, llama.cpp,
the demo engine) and Azure OpenAI (deployment URLs, api-version, api-key header)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from providers import jsoncodec
from providers.adapters.base import HttpCall
from providers.adapters.sse import SseDecoder
from providers.errors import ProviderError
from providers.types import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    DeploymentTarget,
    EmbeddingRequest,
    EmbeddingResponse,
    FinishReason,
    ToolCall,
    ToolCallDelta,
    Usage,
)

if TYPE_CHECKING:
    import httpx

RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}
DEFAULT_BASE = "https://api.openai.com/v1"


dumps = jsoncodec.dumps


def message_to_wire(message: ChatMessage) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.name:
        wire["name"] = message.name
    if message.tool_call_id:
        wire["tool_call_id"] = message.tool_call_id
    if message.tool_calls:
        wire["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    return wire


def request_body(request: ChatRequest, *, model: str | None, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": [message_to_wire(m) for m in request.messages]}
    if model is not None:
        body["model"] = model
    optional: dict[str, Any] = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        "stop": request.stop,
        "seed": request.seed,
        "user": request.user,
        "tool_choice": request.tool_choice,
        "response_format": request.response_format,
        "reasoning_effort": request.reasoning_effort,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters or {"type": "object", "properties": {}},
                    **({"strict": t.strict} if t.strict is not None else {}),
                },
            }
            for t in request.tools
        ]
    body.update(request.extra)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def parse_usage(raw: Mapping[str, Any] | None) -> Usage | None:
    if not raw:
        return None
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    return Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
        cached_tokens=int(prompt_details.get("cached_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


def finish_reason(raw: Any) -> FinishReason | None:
    return FINISH_REASONS.get(str(raw)) if raw else None


def parse_response(payload: Mapping[str, Any], *, model: str, deployment_id: int) -> ChatResponse:
    try:
        choice = payload["choices"][0]
        message = choice["message"]
    except (KeyError, IndexError, TypeError):
        raise ProviderError("The model returned a response in an unexpected shape") from None
    calls = tuple(
        ToolCall(
            id=str(c.get("id") or ""),
            name=str(c["function"]["name"]),
            arguments=str(c["function"].get("arguments") or ""),
        )
        for c in message.get("tool_calls") or []
    )
    return ChatResponse(
        id=str(payload.get("id") or ""),
        model=model,
        content=message.get("content") or "",
        finish_reason=finish_reason(choice.get("finish_reason")),
        usage=parse_usage(payload.get("usage")) or Usage(),
        tool_calls=calls,
        reasoning=str(message.get("reasoning_content") or ""),
        deployment_id=deployment_id,
    )


def chunk_from_event(payload: Mapping[str, Any], *, model: str) -> ChatChunk:
    if "error" in payload:
        error = payload["error"]
        message = error.get("message", "") if isinstance(error, Mapping) else str(error)
        raise ProviderError(f"The model stream failed: {message}"[:300], retryable=True)
    choices = payload.get("choices") or []
    delta: Mapping[str, Any] = {}
    reason = None
    if choices:
        delta = choices[0].get("delta") or {}
        reason = finish_reason(choices[0].get("finish_reason"))
    tool_calls = tuple(
        ToolCallDelta(
            index=int(c.get("index") or 0),
            id=c.get("id"),
            name=(c.get("function") or {}).get("name"),
            arguments=(c.get("function") or {}).get("arguments") or "",
        )
        for c in delta.get("tool_calls") or []
    )
    return ChatChunk(
        id=str(payload.get("id") or ""),
        model=model,
        delta=delta.get("content") or "",
        reasoning=delta.get("reasoning_content") or "",
        tool_calls=tool_calls,
        finish_reason=reason,
        usage=parse_usage(payload.get("usage")),
    )


class OpenAIStreamParser:
    def __init__(self, *, model: str) -> None:
        self.model = model
        self.sse = SseDecoder()
        self.done = False
        self.finished = False

    def feed(self, data: bytes) -> list[ChatChunk]:
        chunks = []
        for event in self.sse.feed(data):
            if event.data == "[DONE]":
                self.done = True
                continue
            try:
                payload = jsoncodec.loads(event.data)
            except json.JSONDecodeError:
                raise ProviderError("The model sent a malformed stream event") from None
            chunk = chunk_from_event(payload, model=self.model)
            self.finished = self.finished or chunk.finish_reason is not None
            chunks.append(chunk)
        return chunks

    def close(self) -> list[ChatChunk]:
        chunks = self.feed(b"\n\n") if self.sse.pending else []
        if not (self.done or self.finished):
            raise ProviderError("The model's stream ended before it finished", retryable=True)
        return chunks


def map_error(status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
    message = ""
    provider_code = ""
    try:
        error = jsoncodec.loads(body).get("error")
        if isinstance(error, Mapping):
            message = str(error.get("message") or "")
            provider_code = str(error.get("code") or error.get("type") or "")
        elif isinstance(error, str):
            message = error
    except (json.JSONDecodeError, AttributeError, UnicodeDecodeError):
        pass
    return ProviderError(
        f"Upstream answered {status}" + (f": {message[:300]}" if message else ""),
        status=status,
        retryable=status in RETRYABLE_STATUSES,
        provider_code=provider_code,
        retry_after=retry_after_seconds(headers),
    )


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("retry-after") or headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def parse_json(body: bytes) -> Any:
    try:
        return jsoncodec.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ProviderError("The model returned a body that is not JSON") from None


class OpenAIAdapter:
    """``openai`` and ``hosted_vllm``: Bearer key, ``{api_base}/chat/completions``."""

    max_embed_batch = 2048  # inputs per embeddings request

    def base_url(self, target: DeploymentTarget) -> str:
        return (target.api_base or DEFAULT_BASE).rstrip("/")

    def auth_headers(self, target: DeploymentTarget) -> dict[str, str]:
        return {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}

    def chat_url(self, target: DeploymentTarget) -> str:
        return f"{self.base_url(target)}/chat/completions"

    def embed_url(self, target: DeploymentTarget) -> str:
        return f"{self.base_url(target)}/embeddings"

    def wire_model(self, target: DeploymentTarget) -> str | None:
        return target.upstream_model

    def build_chat_call(
        self, target: DeploymentTarget, request: ChatRequest, *, stream: bool
    ) -> HttpCall:
        body = request_body(request, model=self.wire_model(target), stream=stream)
        headers = {"Content-Type": "application/json", **self.auth_headers(target)}
        return HttpCall(url=self.chat_url(target), headers=headers, body=dumps(body))

    def parse_chat_response(
        self, body: bytes, *, request: ChatRequest, target: DeploymentTarget
    ) -> ChatResponse:
        return parse_response(
            parse_json(body), model=request.model, deployment_id=target.deployment_id
        )

    def stream_parser(
        self, *, request: ChatRequest, target: DeploymentTarget
    ) -> OpenAIStreamParser:
        return OpenAIStreamParser(model=request.model)

    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError:
        return map_error(status, body, headers)

    def build_embed_call(self, target: DeploymentTarget, request: EmbeddingRequest) -> HttpCall:
        body: dict[str, Any] = {"input": request.inputs, "encoding_format": "float"}
        model = self.wire_model(target)
        if model is not None:
            body["model"] = model
        if request.dimensions is not None:
            body["dimensions"] = request.dimensions
        if request.user:
            body["user"] = request.user
        # OpenAI rejects unknown fields, so only engines that opted in get it.
        if request.input_type and target.params.get("input_type") is True:
            body["input_type"] = request.input_type
        headers = {"Content-Type": "application/json", **self.auth_headers(target)}
        return HttpCall(url=self.embed_url(target), headers=headers, body=dumps(body))

    def parse_embed_response(
        self, body: bytes, *, request: EmbeddingRequest, target: DeploymentTarget
    ) -> EmbeddingResponse:
        payload = parse_json(body)
        try:
            rows = sorted(payload["data"], key=lambda row: int(row.get("index", 0)))
            vectors = [[float(v) for v in row["embedding"]] for row in rows]
        except (KeyError, TypeError, ValueError):
            raise ProviderError("The embedding response has an unexpected shape") from None
        if len(vectors) != len(request.inputs):
            raise ProviderError("The embedding response has the wrong number of vectors")
        usage = parse_usage(payload.get("usage")) or Usage()
        return EmbeddingResponse(model=request.model, vectors=vectors, usage=usage)

    async def authorize(
        self, call: HttpCall, target: DeploymentTarget, client: httpx.AsyncClient
    ) -> HttpCall:
        return call


class AzureOpenAIAdapter(OpenAIAdapter):
    """Azure OpenAI: ``{api_base}/openai/deployments/{deployment}/...?api-version=``,
    the key in an ``api-key`` header, the deployment in the URL instead of the body."""

    DEFAULT_API_VERSION = "2024-10-21"

    def _deployment_url(self, target: DeploymentTarget, operation: str) -> str:
        if not target.api_base:
            raise ProviderError("An Azure deployment needs api_base", status=500)
        version = target.api_version or self.DEFAULT_API_VERSION
        base = target.api_base.rstrip("/")
        return (
            f"{base}/openai/deployments/{target.upstream_model}/{operation}?api-version={version}"
        )

    def chat_url(self, target: DeploymentTarget) -> str:
        return self._deployment_url(target, "chat/completions")

    def embed_url(self, target: DeploymentTarget) -> str:
        return self._deployment_url(target, "embeddings")

    def auth_headers(self, target: DeploymentTarget) -> dict[str, str]:
        return {"api-key": target.api_key} if target.api_key else {}

    def wire_model(self, target: DeploymentTarget) -> str | None:
        return None
