"""Parse OpenAI request bodies into canonical types, with OpenAI-style errors.

Hand-written rather than Django forms (R12's usual tool): this is the hot path
of every API call, and these checks cost a few microseconds.
"""

from __future__ import annotations

from typing import Any, cast

from providers.errors import InvalidRequest
from providers.types import (
    ChatMessage,
    ChatRequest,
    ContentPart,
    EmbeddingRequest,
    ImageUrl,
    ReasoningEffort,
    Role,
    ToolCall,
    ToolSpec,
)

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
EFFORTS = frozenset({"minimal", "low", "medium", "high"})
# Accepted and handled by the gateway or ignored on purpose; anything else in the
# body is passed to the provider as an explicit extra.
KNOWN_KEYS = frozenset(
    {
        "model",
        "messages",
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "stream",
        "stream_options",
        "seed",
        "user",
        "tools",
        "tool_choice",
        "response_format",
        "reasoning_effort",
        "n",
        "parallel_tool_calls",
        "metadata",
        "store",
    }
)
MAX_MESSAGES = 10_000


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidRequest(f"'{key}' must be a number between {low} and {high}", param=key)
    return float(value)


def _positive_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequest(f"'{key}' must be a positive integer", param=key)
    return value


def _content(raw: Any, where: str) -> str | list[ContentPart] | None:
    if raw is None or isinstance(raw, str):
        return raw
    if not isinstance(raw, list):
        raise InvalidRequest(f"'{where}' must be a string or a list of parts", param=where)
    parts: list[ContentPart] = []
    for i, part in enumerate(raw):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "image_url" and isinstance(part.get("image_url"), dict | str):
            image = part["image_url"]
            url = image if isinstance(image, str) else image.get("url")
            if not isinstance(url, str) or not url.startswith(
                ("https://", "http://", "data:image/")
            ):
                raise InvalidRequest(
                    f"'{where}[{i}].image_url.url' must be a URL or data:image/", param=where
                )
            image_url: ImageUrl = {"url": url}
            detail = image.get("detail") if isinstance(image, dict) else None
            if isinstance(detail, str):
                image_url["detail"] = detail
            parts.append({"type": "image_url", "image_url": image_url})
        else:
            raise InvalidRequest(f"'{where}[{i}]' is not a text or image_url part", param=where)
    return parts


def _tool_calls(raw: Any, where: str) -> tuple[ToolCall, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InvalidRequest(f"'{where}' must be a list", param=where)
    calls = []
    for call in raw:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise InvalidRequest(f"'{where}' entries need function.name", param=where)
        calls.append(
            ToolCall(
                id=str(call.get("id") or ""),
                name=function["name"],
                arguments=str(function.get("arguments") or ""),
            )
        )
    return tuple(calls)


def _messages(raw: Any) -> list[ChatMessage]:
    if not isinstance(raw, list) or not raw:
        raise InvalidRequest("'messages' must be a non-empty list", param="messages")
    if len(raw) > MAX_MESSAGES:
        raise InvalidRequest("'messages' is too long", param="messages")
    messages = []
    for i, item in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(item, dict) or item.get("role") not in ROLES:
            raise InvalidRequest(f"'{where}.role' must be one of {sorted(ROLES)}", param=where)
        role = cast("Role", item["role"])
        tool_call_id = item.get("tool_call_id")
        if role == "tool" and not isinstance(tool_call_id, str):
            raise InvalidRequest(
                f"'{where}.tool_call_id' is required for tool messages", param=where
            )
        messages.append(
            ChatMessage(
                role=role,
                content=_content(item.get("content"), f"{where}.content"),
                name=item.get("name") if isinstance(item.get("name"), str) else None,
                tool_call_id=tool_call_id if isinstance(tool_call_id, str) else None,
                tool_calls=_tool_calls(item.get("tool_calls"), f"{where}.tool_calls"),
            )
        )
    return messages


def _tools(raw: Any) -> list[ToolSpec] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise InvalidRequest("'tools' must be a list", param="tools")
    tools = []
    for i, tool in enumerate(raw):
        function = tool.get("function") if isinstance(tool, dict) else None
        if (
            tool.get("type") != "function"
            or not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
        ):
            raise InvalidRequest(f"'tools[{i}]' must be a function with a name", param="tools")
        parameters = function.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise InvalidRequest(
                f"'tools[{i}].function.parameters' must be an object", param="tools"
            )
        strict = function.get("strict")
        tools.append(
            ToolSpec(
                name=function["name"],
                description=str(function.get("description") or ""),
                parameters=parameters,
                strict=strict if isinstance(strict, bool) else None,
            )
        )
    return tools


def chat_request_parse(body: Any) -> tuple[ChatRequest, bool]:
    """The canonical request and whether the client asked for a stream."""
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("'model' is required", param="model")
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    elif stop is not None and (
        not isinstance(stop, list) or not all(isinstance(s, str) for s in stop)
    ):
        raise InvalidRequest("'stop' must be a string or a list of strings", param="stop")
    tool_choice = body.get("tool_choice")
    if tool_choice is not None and not isinstance(tool_choice, str | dict):
        raise InvalidRequest("'tool_choice' must be a string or an object", param="tool_choice")
    response_format = body.get("response_format")
    if response_format is not None and not isinstance(response_format, dict):
        raise InvalidRequest("'response_format' must be an object", param="response_format")
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in EFFORTS:
        raise InvalidRequest(
            f"'reasoning_effort' must be one of {sorted(EFFORTS)}", param="reasoning_effort"
        )
    n = body.get("n")
    if n not in (None, 1):
        raise InvalidRequest("Only n=1 is supported", param="n")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidRequest("'seed' must be an integer", param="seed")
    user = body.get("user")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise InvalidRequest("'stream' must be a boolean", param="stream")
    request = ChatRequest(
        model=model,
        messages=_messages(body.get("messages")),
        temperature=_number(body, "temperature", 0, 2),
        top_p=_number(body, "top_p", 0, 1),
        max_tokens=_positive_int(body, "max_completion_tokens")
        or _positive_int(body, "max_tokens"),
        stop=stop,
        seed=seed,
        user=user if isinstance(user, str) else None,
        tools=_tools(body.get("tools")),
        tool_choice=tool_choice,
        response_format=response_format,
        reasoning_effort=cast("ReasoningEffort | None", effort),
        extra={k: v for k, v in body.items() if k not in KNOWN_KEYS},
    )
    return request, stream


def embedding_request_parse(body: Any) -> EmbeddingRequest:
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("'model' is required", param="model")
    raw = body.get("input")
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
        raise InvalidRequest(
            "'input' must be a string or a non-empty list of strings", param="input"
        )
    if body.get("encoding_format") not in (None, "float", "base64"):
        raise InvalidRequest(
            "'encoding_format' must be 'float' or 'base64'", param="encoding_format"
        )
    dimensions = _positive_int(body, "dimensions")
    user = body.get("user")
    input_type = body.get("input_type")
    if input_type not in (None, "query", "passage"):
        raise InvalidRequest("'input_type' must be 'query' or 'passage'", param="input_type")
    return EmbeddingRequest(
        model=model,
        inputs=inputs,
        dimensions=dimensions,
        user=user if isinstance(user, str) else None,
        input_type=input_type,
    )
