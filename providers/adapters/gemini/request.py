"""Canonical ``ChatRequest`` → ``GenerateContentRequest`` (Gemini API and Vertex AI alike).

Roles: system/developer messages become ``systemInstruction``; user → ``user``;
assistant → ``model``; a ``tool`` result becomes a ``functionResponse`` part in a
user turn, named after the assistant call it answers (Gemini matches results by
function name, OpenAI by call id). Consecutive turns of one role are merged, so
parallel tool results land in one turn, as Gemini expects.
"""

from __future__ import annotations

import json
import mimetypes
import re
from typing import TYPE_CHECKING, Any

from providers.adapters.gemini.tool_ids import signature_from
from providers.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from providers.adapters.gemini.wire import (
        CallingMode,
        Content,
        FunctionDeclaration,
        GeminiRole,
        GenerateContentRequest,
        GenerationConfig,
        Part,
        ThinkingConfig,
        Tool,
        ToolConfig,
    )
    from providers.types import ChatMessage, ChatRequest, ContentPart, ReasoningEffort, ToolSpec

# Gemini 2.5 takes a token budget. The smallest budget every 2.5 model accepts is
# 512 (Flash-Lite); the largest is 24576 (Flash) — Pro allows more but not less.
THINKING_BUDGETS: dict[ReasoningEffort, int] = {
    "minimal": 512,
    "low": 1024,
    "medium": 8192,
    "high": 24576,
}
# Documented by Google for replayed function calls whose signature was lost.
SKIP_SIGNATURE = "skip_thought_signature_validator"
_GENERATION = re.compile(r"gemini-(\d+)")
_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)((?:;[^;,]*)*),(.*)$", re.DOTALL)
# ChatRequest.extra keys that belong in generationConfig (snake_case as LiteLLM
# users write them, or the camelCase wire name).
GENERATION_EXTRAS = {
    "top_k": "topK",
    "candidate_count": "candidateCount",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
    "response_logprobs": "responseLogprobs",
    "logprobs": "logprobs",
    "response_modalities": "responseModalities",
    "media_resolution": "mediaResolution",
}
SAFETY_KEYS = ("safety_settings", "safetySettings")


def uses_thinking_level(model: str) -> bool:
    """Gemini 3 and later take ``thinkingLevel``; earlier models ``thinkingBudget``."""
    match = _GENERATION.search(model)
    return match is not None and int(match.group(1)) >= 3


def _text_part(text: str) -> list[Part]:
    return [{"text": text}] if text else []


def _image_part(url: str) -> Part:
    match = _DATA_URL.match(url)
    if match is not None:
        mime, options, data = match.groups()
        if ";base64" not in options:
            raise ConfigError("An image data: URL must be base64-encoded")
        return {"inlineData": {"mimeType": mime, "data": data}}
    if url.startswith(("https://", "http://", "gs://")):
        mime = mimetypes.guess_type(url.split("?", 1)[0])[0] or "image/jpeg"
        return {"fileData": {"mimeType": mime, "fileUri": url}}
    raise ConfigError("An image must be an https:// URL or a base64 data: URL")


def user_parts(content: str | list[ContentPart] | None) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return _text_part(content)
    parts: list[Part] = []
    for piece in content:
        if piece["type"] == "text":
            parts.extend(_text_part(piece["text"]))
        else:
            parts.append(_image_part(piece["image_url"]["url"]))
    return parts


def model_parts(message: ChatMessage, *, level_model: bool) -> list[Part]:
    parts = _text_part(message.text())
    signed = False
    for call in message.tool_calls:
        try:
            args = json.loads(call.arguments) if call.arguments.strip() else {}
        except json.JSONDecodeError:
            raise ConfigError(f"Tool call {call.name!r} has arguments that are not JSON") from None
        if not isinstance(args, dict):
            raise ConfigError(f"Tool call {call.name!r} must have a JSON object as arguments")
        part: Part = {"functionCall": {"name": call.name, "args": args}}
        signature = signature_from(call.id)
        if signature is not None:
            part["thoughtSignature"] = signature
            signed = True
        parts.append(part)
    if level_model and message.tool_calls and not signed:
        # Gemini 3 wants the signature on the first call of the turn; this history
        # lost it (another provider, or a client that rewrote the ids).
        first = next(p for p in parts if "functionCall" in p)
        first["thoughtSignature"] = SKIP_SIGNATURE
    return parts


def function_response_part(message: ChatMessage, names: Mapping[str, str]) -> Part:
    name = names.get(message.tool_call_id or "") or message.name
    if not name:
        raise ConfigError(
            "A tool message must answer a tool_call_id of an earlier assistant message"
        )
    text = message.text()
    try:
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        value = text
    response = value if isinstance(value, dict) else {"result": value}
    return {"functionResponse": {"name": name, "response": response}}


def contents_and_system(
    messages: list[ChatMessage], *, level_model: bool
) -> tuple[list[Content], list[Part]]:
    contents: list[Content] = []
    system: list[Part] = []
    call_names: dict[str, str] = {}
    for message in messages:
        role: GeminiRole
        if message.role in ("system", "developer"):
            system.extend(_text_part(message.text()))
            continue
        if message.role == "assistant":
            role, parts = "model", model_parts(message, level_model=level_model)
            call_names.update({c.id: c.name for c in message.tool_calls})
        elif message.role == "tool":
            role, parts = "user", [function_response_part(message, call_names)]
        else:
            role, parts = "user", user_parts(message.content)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return contents, system


def tools_wire(tools: list[ToolSpec]) -> list[Tool]:
    declarations: list[FunctionDeclaration] = []
    for tool in tools:
        declaration: FunctionDeclaration = {"name": tool.name}
        if tool.description:
            declaration["description"] = tool.description
        if tool.parameters:
            # JSON Schema as OpenAI clients send it; ``parameters`` would need the
            # OpenAPI subset and rejects keywords like additionalProperties.
            declaration["parametersJsonSchema"] = tool.parameters
        declarations.append(declaration)
    return [{"functionDeclarations": declarations}]


def tool_config(choice: str | dict[str, Any]) -> ToolConfig:
    modes: dict[str, CallingMode] = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
    if isinstance(choice, str):
        if choice not in modes:
            raise ConfigError(f"tool_choice {choice!r} is not auto, none or required")
        return {"functionCallingConfig": {"mode": modes[choice]}}
    name = (choice.get("function") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError("tool_choice must name a function")
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}


def thinking_config(effort: ReasoningEffort, *, level_model: bool) -> ThinkingConfig:
    if level_model:
        return {"thinkingLevel": effort, "includeThoughts": True}
    return {"thinkingBudget": THINKING_BUDGETS[effort], "includeThoughts": True}


def generation_config(request: ChatRequest, *, level_model: bool) -> GenerationConfig:
    config: GenerationConfig = {}
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.stop:
        config["stopSequences"] = list(request.stop)
    if request.seed is not None:
        config["seed"] = request.seed
    if request.reasoning_effort is not None:
        config["thinkingConfig"] = thinking_config(
            request.reasoning_effort, level_model=level_model
        )
    response_format = request.response_format or {}
    kind = response_format.get("type")
    if kind == "json_object":
        config["responseMimeType"] = "application/json"
    elif kind == "json_schema":
        config["responseMimeType"] = "application/json"
        schema = (response_format.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            config["responseJsonSchema"] = schema
    elif kind not in (None, "text"):
        raise ConfigError(f"response_format type {kind!r} is not supported")
    return config


def safety_settings(request: ChatRequest, params: Mapping[str, Any]) -> list[Any] | None:
    """From the request (``extra``) first, else the deployment's ``safety_settings``."""
    value = next((request.extra[k] for k in SAFETY_KEYS if k in request.extra), None)
    if value is None:
        value = params.get("safety_settings")
    if value is None:
        return None
    if not isinstance(value, list):
        raise ConfigError("safety_settings must be a list of {category, threshold}")
    return value


def request_body(
    request: ChatRequest, *, upstream_model: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    level_model = uses_thinking_level(upstream_model)
    contents, system = contents_and_system(request.messages, level_model=level_model)
    body: GenerateContentRequest = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    if request.tools:
        body["tools"] = tools_wire(request.tools)
        if request.tool_choice is not None:
            body["toolConfig"] = tool_config(request.tool_choice)
    config = generation_config(request, level_model=level_model)
    settings = safety_settings(request, params)
    if settings is not None:
        body["safetySettings"] = settings
    wire: dict[str, Any] = dict(body)
    extra_config = merge_extra(wire, request.extra)
    if config or extra_config:
        wire["generationConfig"] = {**config, **extra_config}
    return wire


def merge_extra(body: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """Put ``extra`` into ``body``; return what belongs in ``generationConfig``."""
    config: dict[str, Any] = {}
    for key, value in extra.items():
        if key in SAFETY_KEYS:
            continue
        if key in ("generation_config", "generationConfig") and isinstance(value, dict):
            config.update(value)
        elif key in ("thinking_config", "thinkingConfig") and isinstance(value, dict):
            config["thinkingConfig"] = value
        elif key in GENERATION_EXTRAS:
            config[GENERATION_EXTRAS[key]] = value
        elif key in GENERATION_EXTRAS.values():
            config[key] = value
        else:
            body[key] = value
    return config
