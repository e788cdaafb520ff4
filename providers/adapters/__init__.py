"""Provider prefix → adapter, imported on first use (R6)."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

from providers.errors import ConfigError

if TYPE_CHECKING:
    from providers.adapters.base import Adapter

ADAPTER_PATHS: dict[str, str] = {
    "openai": "providers.adapters.openai_compat.OpenAIAdapter",
    "hosted_vllm": "providers.adapters.openai_compat.OpenAIAdapter",
    "azure": "providers.adapters.openai_compat.AzureOpenAIAdapter",
    "anthropic": "providers.adapters.anthropic.AnthropicAdapter",
    "gemini": "providers.adapters.gemini.GeminiAdapter",
    "vertex_ai": "providers.adapters.gemini.VertexAdapter",
    "bedrock": "providers.adapters.bedrock.BedrockAdapter",
}


@cache
def get_adapter(provider: str) -> Adapter:
    path = ADAPTER_PATHS.get(provider)
    if path is None:
        raise ConfigError(f"No adapter is available yet for provider {provider!r}")
    module_path, _, class_name = path.rpartition(".")
    adapter_class = getattr(import_module(module_path), class_name)
    adapter: Adapter = adapter_class()
    return adapter
