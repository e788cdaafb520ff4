"""Canonical request, response and stream types: the OpenAI chat-completions shape.

Every adapter translates a ``ChatRequest`` into its provider's wire format and
the provider's answer back into ``ChatResponse`` / ``ChatChunk``. The ``/v1``
API parses OpenAI JSON into these types and renders them back (``to_openai``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired, TypedDict

Role = Literal["system", "developer", "user", "assistant", "tool"]
ReasoningEffort = Literal["minimal", "low", "medium", "high"]


class TextPart(TypedDict):
    type: Literal["text"]
    text: str


class ImageUrl(TypedDict):
    url: str  # https://... or data:image/png;base64,...
    detail: NotRequired[str]


class ImagePart(TypedDict):
    type: Literal["image_url"]
    image_url: ImageUrl


ContentPart = TextPart | ImagePart


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asked for. ``arguments`` is a JSON text, as OpenAI sends it."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)  # JSON Schema
    strict: bool | None = None


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str | list[ContentPart] | None
    name: str | None = None
    tool_call_id: str | None = None  # role "tool": which call this answers
    tool_calls: tuple[ToolCall, ...] = ()  # role "assistant": calls the model made

    def text(self) -> str:
        """The text parts joined (images left out)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part["text"] for part in self.content if part["type"] == "text")


@dataclass(frozen=True)
class ChatRequest:
    """``tool_choice``: "auto" | "none" | "required" | {"type": "function", "function": {"name"}}.
    ``response_format``: OpenAI's object ({"type": "json_object"} or json_schema).
    ``extra``: provider-specific parameters passed through explicitly (e.g. Gemini
    ``safety_settings``), merged into the provider's request body by its adapter."""

    model: str
    messages: list[ChatMessage]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    user: str | None = None
    tools: list[ToolSpec] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    reasoning_effort: ReasoningEffort | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0  # part of prompt_tokens served from the provider's cache
    reasoning_tokens: int = 0  # part of completion_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_openai(self) -> dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
        }


FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


@dataclass(frozen=True)
class ChatResponse:
    id: str
    model: str
    content: str
    finish_reason: FinishReason | None
    usage: Usage
    tool_calls: tuple[ToolCall, ...] = ()
    reasoning: str = ""  # thinking text, where the provider returns it
    deployment_id: int | None = None


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a streamed tool call; ``index`` ties the pieces together."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True)
class ChatChunk:
    """One streamed delta. ``finish_reason`` and ``usage`` arrive on the last chunks."""

    id: str
    model: str
    delta: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCallDelta, ...] = ()
    finish_reason: FinishReason | None = None
    usage: Usage | None = None


@dataclass(frozen=True)
class EmbeddingRequest:
    """``input_type``: "query" or "passage", for asymmetric models (e5 and the like) that
    embed a question differently from the text that answers it. Only sent upstream to
    deployments that opt in (``input_type: true`` in their ``litellm_params``)."""

    model: str
    inputs: list[str]
    dimensions: int | None = None
    user: str | None = None
    input_type: str | None = None


@dataclass(frozen=True)
class EmbeddingResponse:
    model: str
    vectors: list[list[float]]
    usage: Usage


@dataclass(frozen=True)
class DeploymentTarget:
    """What an adapter needs to call one deployment, secrets resolved in memory only.

    ``credentials`` holds provider-specific secrets (AWS keys and region, a Vertex
    service-account JSON, ...) resolved from the environment or the encrypted store.
    """

    deployment_id: int
    provider: str
    upstream_model: str
    api_base: str
    api_key: str = field(repr=False, default="")
    api_version: str = ""
    timeout_seconds: float = 600.0
    credentials: dict[str, str] = field(repr=False, default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # other litellm_params, non-secret


@dataclass(frozen=True)
class ModelInfo:
    """A model name as callers see it."""

    name: str
    description: str = ""
    max_input_tokens: int | None = None
    mode: str = "chat"
