"""The adapter interface: pure transforms plus a thin I/O half (R6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import httpx

    from providers.types import ChatChunk, ChatRequest, ChatResponse, DeploymentTarget


class Adapter(Protocol):
    def chat(
        self, client: httpx.Client, target: DeploymentTarget, request: ChatRequest
    ) -> ChatResponse: ...

    def stream(
        self, client: httpx.Client, target: DeploymentTarget, request: ChatRequest
    ) -> Iterator[ChatChunk]: ...
