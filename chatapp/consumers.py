"""Websocket consumers: authenticate from scope, relay channel-layer events (R5)."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from chatapp.events import user_group_name


class UserEventsConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """The per-user event stream every page opens: notices, revocations.

    Origins are checked by the ASGI router before this runs; anonymous
    connections are refused.
    """

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept then close with an application code, so the page knows not to retry.
            await self.accept()
            await self.close(code=4401)
            return
        self.group = user_group_name(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "user": user.email})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def user_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        await self.send_json(event)
        if event.get("type") == "session.revoked":
            await self.close(code=4403)
