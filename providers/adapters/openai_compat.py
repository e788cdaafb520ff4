"""OpenAI chat-completions wire format: OpenAI itself and any compatible engine
(vLLM, llama.cpp, the demo engine). Pure transforms first, then the I/O half."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from providers.errors import ProviderError
from providers.types import ChatChunk, ChatMessage, ChatRequest, ChatResponse, Usage

if TYPE_CHECKING:
    from providers.types import DeploymentTarget

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class HttpCall:
    url: str
    headers: dict[str, str]
    body: dict[str, Any]


def message_to_wire(message: ChatMessage) -> dict[str, Any]:
    wire: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.name:
        wire["name"] = message.name
    if message.tool_call_id:
        wire["tool_call_id"] = message.tool_call_id
    return wire


def build_request(target: DeploymentTarget, request: ChatRequest, *, stream: bool) -> HttpCall:
    body: dict[str, Any] = {
        "model": target.upstream_model,
        "messages": [message_to_wire(m) for m in request.messages],
    }
    optional = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        "stop": request.stop,
        "seed": request.seed,
        "user": request.user,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    headers = {"Content-Type": "application/json"}
    if target.api_key:
        headers["Authorization"] = f"Bearer {target.api_key}"
    base = target.api_base.rstrip("/") or "https://api.openai.com/v1"
    return HttpCall(url=f"{base}/chat/completions", headers=headers, body=body)


def parse_usage(raw: dict[str, Any] | None) -> Usage | None:
    if not raw:
        return None
    return Usage(
        prompt_tokens=int(raw.get("prompt_tokens") or 0),
        completion_tokens=int(raw.get("completion_tokens") or 0),
    )


def parse_response(payload: dict[str, Any], *, model: str, deployment_id: int) -> ChatResponse:
    try:
        choice = payload["choices"][0]
        content = choice["message"].get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        raise ProviderError("The model returned a response in an unexpected shape") from None
    return ChatResponse(
        id=str(payload.get("id") or ""),
        model=model,
        content=content,
        finish_reason=choice.get("finish_reason"),
        usage=parse_usage(payload.get("usage")) or Usage(),
        deployment_id=deployment_id,
    )


def parse_stream_line(line: str, *, model: str) -> ChatChunk | None:
    """One SSE line → a chunk; None for comments, blank lines and ``[DONE]``."""
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if not data or data == "[DONE]":
        return None
    try:
        payload = json.loads(data)
    except json.JSONDecodeError:
        raise ProviderError("The model sent a malformed stream event") from None
    if "error" in payload:
        error = payload["error"]
        message = error.get("message", "") if isinstance(error, dict) else str(error)
        raise ProviderError(f"The model stream failed: {message}"[:300])
    choices = payload.get("choices") or []
    delta = ""
    finish_reason = None
    if choices:
        delta = (choices[0].get("delta") or {}).get("content") or ""
        finish_reason = choices[0].get("finish_reason")
    return ChatChunk(
        id=str(payload.get("id") or ""),
        model=model,
        delta=delta,
        finish_reason=finish_reason,
        usage=parse_usage(payload.get("usage")),
    )


def map_error(status: int, body: str, headers: httpx.Headers) -> ProviderError:
    message = ""
    provider_code = ""
    try:
        error = json.loads(body).get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or "")
            provider_code = str(error.get("code") or error.get("type") or "")
        elif isinstance(error, str):
            message = error
    except (json.JSONDecodeError, AttributeError):
        pass
    retry_after = None
    raw_retry_after = headers.get("retry-after")
    if raw_retry_after:
        try:
            retry_after = max(0.0, float(raw_retry_after))
        except ValueError:
            retry_after = None
    text = f"Upstream answered {status}" + (f": {message[:300]}" if message else "")
    return ProviderError(
        text,
        status=status,
        retryable=status in RETRYABLE_STATUSES,
        provider_code=provider_code,
        retry_after=retry_after,
    )


def transport_error(exc: httpx.HTTPError) -> ProviderError:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError("The model did not answer in time", status=504, retryable=True)
    return ProviderError("The model endpoint could not be reached", status=502, retryable=True)


class OpenAIAdapter:
    def chat(
        self, client: httpx.Client, target: DeploymentTarget, request: ChatRequest
    ) -> ChatResponse:
        call = build_request(target, request, stream=False)
        try:
            response = client.post(
                call.url, headers=call.headers, json=call.body, timeout=target.timeout_seconds
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc) from exc
        if response.status_code >= 400:
            raise map_error(response.status_code, response.text, response.headers)
        try:
            payload = response.json()
        except ValueError:
            raise ProviderError("The model returned a body that is not JSON") from None
        return parse_response(payload, model=request.model, deployment_id=target.deployment_id)

    def stream(
        self, client: httpx.Client, target: DeploymentTarget, request: ChatRequest
    ) -> Iterator[ChatChunk]:
        call = build_request(target, request, stream=True)
        try:
            with client.stream(
                "POST",
                call.url,
                headers=call.headers,
                json=call.body,
                timeout=target.timeout_seconds,
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise map_error(response.status_code, response.text, response.headers)
                for line in response.iter_lines():
                    chunk = parse_stream_line(line, model=request.model)
                    if chunk is not None:
                        yield chunk
        except httpx.HTTPError as exc:
            raise transport_error(exc) from exc
