"""Google's GenerateContent wire format: ``gemini`` (AI Studio) and ``vertex_ai``.

``request`` and ``response``/``stream`` are the pure transforms, ``vertex_auth``
the service-account token exchange (the only I/O, through ``authorize``), and
``adapter`` the two adapter classes the registry imports.
"""

from __future__ import annotations

from providers.adapters.gemini.adapter import GeminiAdapter, VertexAdapter

__all__ = ["GeminiAdapter", "VertexAdapter"]
