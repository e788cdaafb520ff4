"""The adapter interface (R6): pure transforms, plus one optional I/O hook.

An adapter never performs the HTTP call itself: ``providers.transport`` sends
the ``HttpCall`` an adapter builds and hands the bytes back to its parsers. So
every transform can be tested on recorded wire samples without a network.

Recipe for a new provider: copy a sibling module, implement the five pure
methods (and ``authorize`` if the provider needs a token or a signature),
register the prefix in ``providers/adapters/__init__.py``, teach the fake
upstream in ``tests/fake_upstream`` its wire format, and test both halves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

    from providers.errors import ProviderError
    from providers.types import (
        ChatChunk,
        ChatRequest,
        ChatResponse,
        DeploymentTarget,
        EmbeddingRequest,
        EmbeddingResponse,
    )


@dataclass(frozen=True)
class HttpCall:
    """A request ready to send. ``body`` is the exact bytes (signatures cover them)."""

    url: str
    headers: dict[str, str]
    body: bytes
    method: str = "POST"


class StreamParser(Protocol):
    """Turns a streamed body into chunks, however the bytes are split."""

    def feed(self, data: bytes) -> list[ChatChunk]: ...

    def close(self) -> list[ChatChunk]:
        """The body ended: return what is left, or raise ProviderError if it was cut short."""
        ...


class Adapter(Protocol):
    """An adapter may also define ``max_embed_batch``: the transport then splits larger
    embedding requests into calls of at most that many inputs."""

    def build_chat_call(
        self, target: DeploymentTarget, request: ChatRequest, *, stream: bool
    ) -> HttpCall: ...

    def parse_chat_response(
        self, body: bytes, *, request: ChatRequest, target: DeploymentTarget
    ) -> ChatResponse: ...

    def stream_parser(self, *, request: ChatRequest, target: DeploymentTarget) -> StreamParser: ...

    def map_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> ProviderError: ...

    def build_embed_call(self, target: DeploymentTarget, request: EmbeddingRequest) -> HttpCall:
        """Raise ``ConfigError`` when the provider has no embeddings."""
        ...

    def parse_embed_response(
        self, body: bytes, *, request: EmbeddingRequest, target: DeploymentTarget
    ) -> EmbeddingResponse: ...

    async def authorize(
        self, call: HttpCall, target: DeploymentTarget, client: httpx.AsyncClient
    ) -> HttpCall:
        """Add credentials that need I/O or the clock (OAuth tokens, request signatures)."""
        ...
