"""Amazon Bedrock adapter (Converse, ConverseStream, SigV4), split by concern:
``request`` (canonical → Converse), ``response`` (Converse → canonical, errors),
``eventstream`` (the binary stream framing), ``sigv4`` (request signing)."""

from __future__ import annotations

from providers.adapters.bedrock.adapter import BedrockAdapter

__all__ = ["BedrockAdapter"]
