"""``ChatRequest`` → the body of an Anthropic Messages request (``POST /v1/messages``).

Where Anthropic differs from the OpenAI shape we receive:

* the system prompt is a top-level ``system`` field, not a message;
* turns alternate user / assistant, so consecutive same-role messages are merged;
* a tool call is a ``tool_use`` block whose ``input`` is an object (OpenAI sends JSON
  text), and its answer is a ``tool_result`` block in the *next* user turn;
* ``max_tokens`` is required, and extended thinking needs a budget below it;
* there is no JSON mode: ``response_format`` is served by a forced tool whose input
  schema is the wanted schema (``JSON_TOOL_NAME``), mapped back to text on the way out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from providers.errors import ConfigError
from providers.types import ChatMessage, ChatRequest, ContentPart, ToolCall, ToolSpec

DEFAULT_MAX_TOKENS = 4096
# reasoning_effort → thinking budget. "minimal" asks for (almost) no reasoning, which on
# Anthropic is no extended thinking at all; 1024 is the smallest budget it accepts.
THINKING_BUDGETS = {"low": 1024, "medium": 4096, "high": 16384}
JSON_TOOL_NAME = "json_response"
IMAGE_MEDIA_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})

Block = dict[str, Any]


@dataclass
class Turn:
    role: str  # "user" | "assistant"
    blocks: list[Block] = field(default_factory=list)


def json_output_schema(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    """The JSON Schema the answer must follow, or None when plain text is wanted."""
    wanted = response_format or {}
    kind = wanted.get("type") or "text"
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "object"}
    if kind != "json_schema":
        raise ConfigError(f"Unsupported response_format type {kind!r}")
    schema = (wanted.get("json_schema") or {}).get("schema") or {"type": "object"}
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise ConfigError("Anthropic can only return JSON whose schema has an object at the root")
    return schema


def wants_json(request: ChatRequest) -> bool:
    return json_output_schema(request.response_format) is not None


def image_block(url: str) -> Block:
    if url.startswith("data:"):
        header, comma, data = url[len("data:") :].partition(",")
        media_type, *params = header.split(";")
        if not comma or "base64" not in params:
            raise ConfigError("An image data: URL must be base64-encoded")
        if media_type not in IMAGE_MEDIA_TYPES:
            raise ConfigError(
                f"Anthropic does not accept images of type {media_type!r} "
                f"(use one of {', '.join(sorted(IMAGE_MEDIA_TYPES))})"
            )
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": media_type, "data": data},
        }
    if url.startswith("https://"):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise ConfigError("Anthropic takes images as base64 data: URLs or https:// URLs")


def content_blocks(content: str | list[ContentPart] | None) -> list[Block]:
    """Text and image blocks; empty text is dropped (Anthropic rejects empty text blocks)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[Block] = []
    for part in content:
        if part["type"] == "text":
            if part["text"]:
                blocks.append({"type": "text", "text": part["text"]})
        else:
            blocks.append(image_block(part["image_url"]["url"]))
    return blocks


def tool_use_block(call: ToolCall) -> Block:
    try:
        arguments = json.loads(call.arguments) if call.arguments.strip() else {}
    except json.JSONDecodeError:
        raise ConfigError(
            f"The arguments of tool call {call.id!r} ({call.name}) are not valid JSON"
        ) from None
    if not isinstance(arguments, dict):
        raise ConfigError(
            f"The arguments of tool call {call.id!r} ({call.name}) must be a JSON object"
        )
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": arguments}


def tool_result_block(message: ChatMessage) -> Block:
    block: Block = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    if isinstance(message.content, str):
        if message.content:
            block["content"] = message.content
    else:
        blocks = content_blocks(message.content)
        if blocks:
            block["content"] = blocks
    return block


class _Conversation:
    """Builds alternating turns and checks that tool results answer the turn before them."""

    def __init__(self) -> None:
        self.system: list[str] = []
        self.turns: list[Turn] = []
        # The tool calls of the latest assistant turn that still await their results;
        # emptied as soon as any other user or assistant message arrives.
        self.open_calls: dict[str, bool] = {}

    def add(self, message: ChatMessage) -> None:
        if message.role in ("system", "developer"):
            if message.text():
                self.system.append(message.text())
            return
        if message.role == "tool":
            self._tool_result(message)
            return
        self._require_answered()
        if message.role == "user":
            self._append("user", content_blocks(message.content))
            return
        blocks = content_blocks(message.content)
        blocks.extend(tool_use_block(call) for call in message.tool_calls)
        self._append("assistant", blocks)
        self.open_calls = {call.id: False for call in message.tool_calls}

    def finish(self) -> tuple[str, list[Block]]:
        self._require_answered()
        if not self.turns:
            raise ConfigError("The request has no user or assistant messages")
        messages = [{"role": t.role, "content": t.blocks} for t in self.turns]
        return "\n\n".join(self.system), messages

    def _tool_result(self, message: ChatMessage) -> None:
        call_id = message.tool_call_id
        if not call_id:
            raise ConfigError("A tool message needs the tool_call_id of the call it answers")
        if call_id not in self.open_calls:
            raise ConfigError(
                f"The tool result for {call_id!r} does not directly follow the assistant "
                "message that made that call (Anthropic requires each tool result right "
                "after its tool call)"
            )
        if self.open_calls[call_id]:
            raise ConfigError(f"The tool call {call_id!r} is answered twice")
        self.open_calls[call_id] = True
        self._append("user", [tool_result_block(message)])

    def _require_answered(self) -> None:
        missing = [call_id for call_id, answered in self.open_calls.items() if not answered]
        if missing:
            raise ConfigError(
                f"The assistant's tool call {missing[0]!r} has no tool result right after it"
            )
        self.open_calls = {}

    def _append(self, role: str, blocks: list[Block]) -> None:
        if not blocks:
            return
        if self.turns and self.turns[-1].role == role:
            self.turns[-1].blocks.extend(blocks)
        else:
            self.turns.append(Turn(role, blocks))


def tool_to_wire(tool: ToolSpec) -> Block:
    wire: Block = {
        "name": tool.name,
        "input_schema": tool.parameters or {"type": "object", "properties": {}},
    }
    if tool.description:
        wire["description"] = tool.description
    return wire


def tool_choice_to_wire(choice: str | dict[str, Any] | None) -> Block | None:
    if choice is None:
        return None
    if isinstance(choice, str):
        mapped = {"auto": "auto", "required": "any", "none": "none"}.get(choice)
        if mapped is None:
            raise ConfigError(f"Unsupported tool_choice {choice!r}")
        return {"type": mapped}
    name = (choice.get("function") or {}).get("name")
    if choice.get("type") != "function" or not name:
        raise ConfigError("tool_choice must name a function to force one")
    return {"type": "tool", "name": name}


def tools_and_choice(request: ChatRequest) -> tuple[list[Block], Block | None]:
    """Tools offered and the choice. JSON output adds the answer tool and makes the model
    use a tool: that one alone, or any when the caller's own tools may be called first."""
    tools = [tool_to_wire(t) for t in request.tools or []]
    choice = tool_choice_to_wire(request.tool_choice) if tools else None
    schema = json_output_schema(request.response_format)
    if schema is None:
        return tools, choice
    if any(t["name"] == JSON_TOOL_NAME for t in tools):
        raise ConfigError(f"A tool may not be named {JSON_TOOL_NAME!r} when JSON output is asked")
    description = ((request.response_format or {}).get("json_schema") or {}).get("description")
    tools.append(
        {
            "name": JSON_TOOL_NAME,
            "description": description or "Give the final answer as JSON through this tool.",
            "input_schema": schema,
        }
    )
    if len(tools) == 1 or (choice is not None and choice["type"] == "none"):
        choice = {"type": "tool", "name": JSON_TOOL_NAME}
    elif choice is None or choice["type"] == "auto":
        choice = {"type": "any"}
    return tools, choice


def token_limits(request: ChatRequest) -> tuple[int, int | None]:
    """``max_tokens`` and the thinking budget. The budget counts inside ``max_tokens``,
    which must exceed it: a smaller limit is read as room for the answer after thinking."""
    max_tokens = request.max_tokens or DEFAULT_MAX_TOKENS
    budget = THINKING_BUDGETS.get(request.reasoning_effort or "")
    if budget is not None and max_tokens <= budget:
        max_tokens += budget
    return max_tokens, budget


def request_body(request: ChatRequest, *, model: str, stream: bool) -> dict[str, Any]:
    conversation = _Conversation()
    for message in request.messages:
        conversation.add(message)
    system, messages = conversation.finish()
    max_tokens, budget = token_limits(request)
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": messages}
    if system:
        body["system"] = system
    optional: dict[str, Any] = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "stop_sequences": request.stop or None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if request.user:
        body["metadata"] = {"user_id": request.user}
    tools, choice = tools_and_choice(request)
    if tools:
        body["tools"] = tools
    if choice is not None:
        body["tool_choice"] = choice
    if budget is not None:
        check_thinking_compatible(request, choice)
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    body.update(request.extra)
    if stream:
        body["stream"] = True
    return body


def check_thinking_compatible(request: ChatRequest, choice: Block | None) -> None:
    """Anthropic rejects these with extended thinking; say why before the round trip."""
    if request.temperature is not None and request.temperature != 1:
        raise ConfigError("Anthropic does not accept a temperature with reasoning_effort")
    if choice is not None and choice["type"] in ("any", "tool"):
        what = "JSON output" if wants_json(request) else "A forced tool_choice"
        raise ConfigError(f"{what} cannot be combined with reasoning_effort on Anthropic")
