"""Canonical request, response and stream types (OpenAI chat-completions shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NotRequired, TypedDict

Role = Literal["system", "user", "assistant", "tool", "developer"]


class TextPart(TypedDict):
    type: Literal["text"]
    text: str


class ImageUrl(TypedDict):
    url: str
    detail: NotRequired[str]


class ImagePart(TypedDict):
    type: Literal["image_url"]
    image_url: ImageUrl


ContentPart = TextPart | ImagePart


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str | list[ContentPart] | None
    name: str | None = None
    tool_call_id: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[ChatMessage]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    user: str | None = None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ChatResponse:
    id: str
    model: str
    content: str
    finish_reason: str | None
    usage: Usage
    deployment_id: int | None = None


@dataclass(frozen=True)
class ChatChunk:
    """One streamed delta. The final chunk carries ``finish_reason`` and/or ``usage``."""

    id: str
    model: str
    delta: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class DeploymentTarget:
    """What an adapter needs to call one deployment, secrets resolved in memory only."""

    deployment_id: int
    provider: str
    upstream_model: str
    api_base: str
    api_key: str = field(repr=False, default="")
    api_version: str = ""
    timeout_seconds: float = 600.0


@dataclass(frozen=True)
class ModelInfo:
    """A model name as callers see it."""

    name: str
    description: str = ""
    max_input_tokens: int | None = None
    mode: str = "chat"
