"""The anthropic wire format (filled in with its adapter)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from tests.fake_upstream.server import FakeUpstream


def add_routes(app: web.Application, upstream: FakeUpstream) -> None:
    """No routes yet."""
