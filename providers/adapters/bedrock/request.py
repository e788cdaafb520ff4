"""Canonical chat request → Bedrock Converse request body (pure).

Converse differs from the OpenAI shape in ways that matter here:

* the system prompt is a top-level ``system`` list, not a message;
* roles must alternate user / assistant, so consecutive same-role turns merge;
* tool results are ``toolResult`` blocks inside a *user* turn, and the
  assistant's calls are ``toolUse`` blocks whose ``input`` is a JSON object;
* images travel as base64 bytes only (no URLs: the adapter does no I/O);
* anything model-specific goes in ``additionalModelRequestFields``.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from providers.errors import ConfigError
from providers.types import ChatMessage, ChatRequest, ContentPart

# Top-level Converse fields a caller may pass through ``ChatRequest.extra``;
# every other extra key is a model parameter for additionalModelRequestFields.
CONVERSE_TOP_LEVEL = frozenset(
    {
        "guardrailConfig",
        "performanceConfig",
        "requestMetadata",
        "promptVariables",
        "additionalModelResponseFieldPaths",
        "outputConfig",
        "serviceTier",
    }
)
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
# Claude's thinking budget per OpenAI reasoning effort (Anthropic's minimum is 1024).
THINKING_BUDGETS = {"minimal": 1024, "low": 1024, "medium": 2048, "high": 4096}
# Room left for the answer when the caller set no max_tokens but asked for thinking.
ANSWER_TOKENS_WITH_THINKING = 4096

Block = dict[str, Any]
Turn = dict[str, Any]


def image_block(url: str) -> Block:
    """``data:image/png;base64,...`` → a Converse image block (base64 bytes)."""
    if not url.startswith("data:"):
        raise ConfigError(
            "Bedrock accepts images only inline, as data:image/...;base64 URLs; "
            "the gateway does not fetch image URLs"
        )
    header, _, data = url[5:].partition(",")
    mime, _, encoding = header.partition(";")
    image_format = IMAGE_FORMATS.get(mime.lower())
    if image_format is None or encoding != "base64":
        allowed = ", ".join(IMAGE_FORMATS)
        raise ConfigError(f"Bedrock images must be base64 data URLs of type {allowed}")
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("An image data URL does not hold valid base64") from None
    return {"image": {"format": image_format, "source": {"bytes": data}}}


def content_blocks(content: str | list[ContentPart] | None) -> list[Block]:
    """Text and image blocks; empty text is dropped (Converse rejects blank text)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content.strip() else []
    blocks: list[Block] = []
    for part in content:
        if part["type"] == "text":
            if part["text"].strip():
                blocks.append({"text": part["text"]})
        else:
            blocks.append(image_block(part["image_url"]["url"]))
    return blocks


def tool_input(arguments: str, *, call_id: str) -> Any:
    if not arguments.strip():
        return {}
    try:
        return json.loads(arguments)
    except json.JSONDecodeError:
        raise ConfigError(f"Tool call {call_id!r} has arguments that are not valid JSON") from None


def message_turn(message: ChatMessage) -> Turn | None:
    """One non-system message as a Converse turn; None when it carries nothing."""
    if message.role == "tool":
        result = content_blocks(message.content) or [{"text": "(empty result)"}]
        block = {"toolResult": {"toolUseId": message.tool_call_id or "", "content": result}}
        return {"role": "user", "content": [block]}
    blocks = content_blocks(message.content)
    if message.role == "assistant":
        blocks += [
            {
                "toolUse": {
                    "toolUseId": call.id,
                    "name": call.name,
                    "input": tool_input(call.arguments, call_id=call.id),
                }
            }
            for call in message.tool_calls
        ]
    if not blocks:
        return None
    return {"role": "assistant" if message.role == "assistant" else "user", "content": blocks}


def conversation(messages: list[ChatMessage]) -> tuple[list[Block], list[Turn]]:
    """``(system blocks, alternating turns)``: system/developer text lifted out,
    consecutive same-role turns merged into one (their blocks in order)."""
    system: list[Block] = []
    turns: list[Turn] = []
    for message in messages:
        if message.role in ("system", "developer"):
            text = message.text()
            if text.strip():
                system.append({"text": text})
            continue
        turn = message_turn(message)
        if turn is None:
            continue
        if turns and turns[-1]["role"] == turn["role"]:
            turns[-1]["content"].extend(turn["content"])
        else:
            turns.append(turn)
    return system, turns


def used_tool_names(turns: list[Turn]) -> list[str]:
    names: list[str] = []
    for turn in turns:
        for block in turn["content"]:
            name = block.get("toolUse", {}).get("name")
            if name and name not in names:
                names.append(name)
    return names


def has_tool_blocks(turns: list[Turn]) -> bool:
    return any("toolUse" in b or "toolResult" in b for t in turns for b in t["content"])


def tool_choice(choice: str | dict[str, Any] | None) -> Block | None:
    if choice is None:
        return None
    if choice == "auto":
        return {"auto": {}}
    if choice == "required":
        return {"any": {}}
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if isinstance(name, str) and name:
            return {"tool": {"name": name}}
    raise ConfigError(f"tool_choice {choice!r} is not supported for Bedrock")


def tool_config(request: ChatRequest, turns: list[Turn]) -> Block | None:
    """``toolConfig``, or None. Converse insists on a toolConfig whenever the history
    holds toolUse/toolResult blocks, so tools are kept then even for
    ``tool_choice="none"`` (Converse has no "none"), and tools the history used
    but the request no longer lists get a minimal spec."""
    in_history = has_tool_blocks(turns)
    if request.tool_choice == "none" and not in_history:
        return None
    specs: list[Block] = []
    for tool in request.tools or []:
        spec: Block = {
            "name": tool.name,
            "inputSchema": {"json": tool.parameters or {"type": "object", "properties": {}}},
        }
        if tool.description:
            spec["description"] = tool.description
        specs.append({"toolSpec": spec})
    listed = {s["toolSpec"]["name"] for s in specs}
    for name in used_tool_names(turns):
        if name not in listed:
            specs.append({"toolSpec": {"name": name, "inputSchema": {"json": {"type": "object"}}}})
    if not specs:
        return None
    config: Block = {"tools": specs}
    if request.tool_choice != "none":
        choice = tool_choice(request.tool_choice)
        if choice is not None:
            config["toolChoice"] = choice
    return config


def is_claude(model_id: str) -> bool:
    return "anthropic." in model_id or "claude" in model_id


def output_config(response_format: dict[str, Any] | None) -> Block | None:
    """OpenAI ``json_schema`` → Converse ``outputConfig.textFormat`` (schema as a string)."""
    if not response_format or response_format.get("type") == "text":
        return None
    if response_format.get("type") == "json_schema":
        spec = response_format.get("json_schema") or {}
        json_schema: Block = {
            "schema": json.dumps(spec.get("schema") or {}),
            "name": str(spec.get("name") or "response"),
        }
        if spec.get("description"):
            json_schema["description"] = str(spec["description"])
        return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": json_schema}}}
    raise ConfigError(
        "Bedrock supports response_format json_schema only (it has no schemaless JSON mode)"
    )


def inference_config(request: ChatRequest, *, thinking_budget: int | None) -> Block:
    config: Block = {}
    max_tokens = request.max_tokens
    if thinking_budget is not None:
        if max_tokens is None:
            max_tokens = thinking_budget + ANSWER_TOKENS_WITH_THINKING
        elif max_tokens <= thinking_budget:
            raise ConfigError(
                f"max_tokens must exceed the thinking budget ({thinking_budget} tokens for "
                f"reasoning_effort={request.reasoning_effort!r}) on Claude models"
            )
    values = {
        "maxTokens": max_tokens,
        "temperature": request.temperature,
        "topP": request.top_p,
        "stopSequences": request.stop or None,
    }
    config.update({k: v for k, v in values.items() if v is not None})
    return config


def converse_body(request: ChatRequest, *, model_id: str) -> dict[str, Any]:
    """The Converse / ConverseStream body (the same for both). ``seed`` and ``user``
    have no Converse equivalent and are left out; ``reasoning_effort`` becomes
    Claude's ``thinking`` budget and is ignored for other model families."""
    system, turns = conversation(request.messages)
    if not turns:
        raise ConfigError("A Bedrock request needs at least one user or assistant message")
    body: dict[str, Any] = {"messages": turns}
    if system:
        body["system"] = system
    budget = None
    if request.reasoning_effort is not None and is_claude(model_id):
        budget = THINKING_BUDGETS[request.reasoning_effort]
    inference = inference_config(request, thinking_budget=budget)
    if inference:
        body["inferenceConfig"] = inference
    tools = tool_config(request, turns)
    if tools is not None:
        body["toolConfig"] = tools
    output = output_config(request.response_format)
    if output is not None:
        body["outputConfig"] = output
    additional: dict[str, Any] = {}
    if budget is not None:
        additional["thinking"] = {"type": "enabled", "budget_tokens": budget}
    for key, value in request.extra.items():
        if key in CONVERSE_TOP_LEVEL:
            body[key] = value
        else:
            additional[key] = value
    if additional:
        body["additionalModelRequestFields"] = additional
    return body
