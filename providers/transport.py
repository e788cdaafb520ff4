"""The I/O half of every adapter: send an ``HttpCall``, hand the bytes to the parsers.

Calls go over the client's ``wire`` (providers.wire); the adapters' credential
exchanges use the same client as httpx's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

import httpx

from providers.errors import ProviderError
from providers.types import EmbeddingResponse, Usage

if TYPE_CHECKING:
    from providers.adapters.base import Adapter, HttpCall
    from providers.http import ProviderClient
    from providers.types import (
        ChatChunk,
        ChatRequest,
        ChatResponse,
        DeploymentTarget,
        EmbeddingRequest,
    )
    from providers.wire import WireResponse


# A stream's bytes are parsed and relayed at most this many at a time before the
# loop's other work gets its turn. An upstream that outpaces the relay leaves up to
# 256 KB per read (a whole answer, 3 ms of work); handled at once, seven such streams
# kept a new request from starting for 10 ms and more. A model-paced stream's reads
# are one chunk each and never reach it.
FAIR_SLICE_BYTES = 4096


def fair_slices(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), FAIR_SLICE_BYTES):
        yield data[start : start + FAIR_SLICE_BYTES]


def transport_error(exc: httpx.HTTPError) -> ProviderError:
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError("The model did not answer in time", status=504, retryable=True)
    return ProviderError("The model endpoint could not be reached", status=502, retryable=True)


def _timeouts(target: DeploymentTarget, deadline_seconds: float | None) -> tuple[float, float]:
    """Connecting (a free connection included) and each wait for the upstream within the
    deployment's timeout and what is left of the request's; connecting within 10 s."""
    seconds = target.timeout_seconds
    if deadline_seconds is not None:
        seconds = max(0.001, min(seconds, deadline_seconds))
    return min(seconds, 10.0), seconds


async def _prepared(
    client: ProviderClient, adapter: Adapter, target: DeploymentTarget, call: HttpCall
) -> HttpCall:
    return await adapter.authorize(call, target, client)


async def _open(
    client: ProviderClient, call: HttpCall, timeouts: tuple[float, float]
) -> WireResponse:
    connect, read = timeouts
    try:
        return await client.wire.open(
            call.method,
            call.url,
            call.headers,
            call.body,
            connect_timeout=connect,
            read_timeout=read,
        )
    except httpx.HTTPError as exc:
        raise transport_error(exc) from exc


async def _exchange(
    client: ProviderClient, call: HttpCall, timeouts: tuple[float, float]
) -> tuple[int, Mapping[str, str], bytes]:
    response = await _open(client, call, timeouts)
    try:
        body = await response.read()
    except httpx.HTTPError as exc:
        raise transport_error(exc) from exc
    finally:
        client.wire.finish(response)
    return response.status, response.headers, body


async def send_chat(
    client: ProviderClient,
    adapter: Adapter,
    target: DeploymentTarget,
    request: ChatRequest,
    *,
    deadline_seconds: float | None = None,
) -> ChatResponse:
    call = await _prepared(
        client, adapter, target, adapter.build_chat_call(target, request, stream=False)
    )
    status, headers, body = await _exchange(client, call, _timeouts(target, deadline_seconds))
    if status >= 400:
        raise adapter.map_error(status, body, headers)
    return adapter.parse_chat_response(body, request=request, target=target)


async def open_stream(
    client: ProviderClient,
    adapter: Adapter,
    target: DeploymentTarget,
    request: ChatRequest,
    *,
    deadline_seconds: float | None = None,
) -> AsyncGenerator[list[ChatChunk], None]:
    """Chunks as the upstream sends them: those of one network read together, never an
    empty list. Closing the iterator closes the upstream request."""
    call = await _prepared(
        client, adapter, target, adapter.build_chat_call(target, request, stream=True)
    )
    parser = adapter.stream_parser(request=request, target=target)
    response = await _open(client, call, _timeouts(target, deadline_seconds))
    try:
        try:
            if response.status >= 400:
                body = await response.read()
                raise adapter.map_error(response.status, body, response.headers)
            async for data in response.chunks():
                if len(data) <= FAIR_SLICE_BYTES:
                    batch = parser.feed(data)
                    if batch:
                        yield batch
                    continue
                for n, piece in enumerate(fair_slices(data)):
                    if n:
                        await asyncio.sleep(0)
                    batch = parser.feed(piece)
                    if batch:
                        yield batch
        except httpx.HTTPError as exc:
            raise transport_error(exc) from exc
        rest = parser.close()
        if rest:
            yield rest
    finally:
        client.wire.finish(response)


async def send_embed(
    client: ProviderClient,
    adapter: Adapter,
    target: DeploymentTarget,
    request: EmbeddingRequest,
    *,
    deadline_seconds: float | None = None,
) -> EmbeddingResponse:
    """Embed all inputs, in as many calls as the provider's batch limit needs."""
    limit = getattr(adapter, "max_embed_batch", None) or len(request.inputs)
    if len(request.inputs) <= limit:
        return await _send_embed_once(client, adapter, target, request, deadline_seconds)
    vectors: list[list[float]] = []
    prompt_tokens = 0
    for start in range(0, len(request.inputs), limit):
        part = replace(request, inputs=request.inputs[start : start + limit])
        response = await _send_embed_once(client, adapter, target, part, deadline_seconds)
        vectors.extend(response.vectors)
        prompt_tokens += response.usage.prompt_tokens
    return EmbeddingResponse(
        model=request.model, vectors=vectors, usage=Usage(prompt_tokens=prompt_tokens)
    )


async def _send_embed_once(
    client: ProviderClient,
    adapter: Adapter,
    target: DeploymentTarget,
    request: EmbeddingRequest,
    deadline_seconds: float | None,
) -> EmbeddingResponse:
    call = await _prepared(client, adapter, target, adapter.build_embed_call(target, request))
    status, headers, body = await _exchange(client, call, _timeouts(target, deadline_seconds))
    if status >= 400:
        raise adapter.map_error(status, body, headers)
    return adapter.parse_embed_response(body, request=request, target=target)
