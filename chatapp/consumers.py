"""Websocket consumers: authenticate from scope, relay conversation and user events (R5)."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext as _

from chatapp.dbthread import db_call
from chatapp.fanout import conversation_topic, user_topic
from chatapp.live import live_text, stop_request
from chatapp.models import Conversation, Message
from chatapp.permissions import access_message, conversation_for_socket
from chatapp.rendering import RenderUpdate, StreamingRenderer
from chatapp.runtime import get_chat_runtime
from chatapp.turns import turn_start
from orgs.errors import AccessDenied

MAX_TEXT = 100_000


def render_json(update: RenderUpdate, *, reset: bool = False) -> dict[str, Any]:
    """Sanitised HTML to append and to replace, and the raw text not rendered yet."""
    return {
        "reset": reset,
        "frozen": update.frozen_html_appended,
        "tail": update.tail_html,
        "raw": update.raw_text_appended,
    }


class UserEventsConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """The per-user event stream every page opens: notices, revocations.

    Origins are checked by the ASGI router before this runs; anonymous
    connections are refused.
    """

    topic: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept then close with an application code, so the page knows not to retry.
            await self.accept()
            await self.close(code=4401)
            return
        await get_chat_runtime().hub().join(user_topic(user.pk), self.user_event)
        self.topic = user_topic(user.pk)
        await self.accept()
        await self.send_json({"type": "hello", "user": user.email})

    async def disconnect(self, code: int) -> None:
        if self.topic is not None:
            await get_chat_runtime().hub().leave(self.topic, self.user_event)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def user_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event)
        if event.get("type") == "session.revoked":
            await self.close(code=4403)


class ChatConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """One conversation: send, regenerate, stop, and resume a stream from an offset.

    Streamed text is also rendered here, per socket, with the bounded
    StreamingRenderer: each delta carries the HTML of the blocks it completed and
    of the block still growing, so the page never parses Markdown itself.
    """

    conversation_id: int | None = None
    renderers: dict[int, tuple[StreamingRenderer, int]]

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.renderers = {}
        await self.accept()
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        try:
            conversation = await self._conversation()
        except AccessDenied:
            await self.close(code=4404)
            return
        hub = get_chat_runtime().hub()
        await hub.join(conversation_topic(conversation.pk), self.conversation_event)
        self.conversation_id = conversation.pk
        await hub.join(user_topic(user.pk), self.user_event)
        await self.send_json({"type": "ready", "conversation_id": conversation.pk})

    async def disconnect(self, code: int) -> None:
        if self.conversation_id is not None:
            hub = get_chat_runtime().hub()
            await hub.leave(conversation_topic(self.conversation_id), self.conversation_event)
            await hub.leave(user_topic(self.scope["user"].pk), self.user_event)

    async def _conversation(self) -> Conversation:
        """Checked on every event: access ends the moment it is taken away."""
        return await db_call(conversation_for_socket)(
            self.scope["user"], self.scope["url_route"]["kwargs"]["conversation_id"]
        )

    async def _message(self, conversation: Conversation, message_id: Any) -> Message:
        return await db_call(access_message)(conversation, message_id)

    async def _error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("bad_request", _("The message could not be understood."))
            return
        kind = content.get("type")
        try:
            conversation = await self._conversation()
            if kind == "send":
                await self._send_turn(conversation, content)
            elif kind == "regenerate":
                parent = await self._message(conversation, content.get("message_id"))
                await self._start(conversation, text=None, parent=parent)
            elif kind == "resume":
                await self._resume(conversation, content)
            elif kind == "stop":
                message = await self._message(conversation, content.get("message_id"))
                await stop_request(message.pk)
            elif kind == "ping":
                await self.send_json({"type": "pong"})
            else:
                await self._error("bad_request", _("Unknown request."))
        except AccessDenied:
            await self._error("not_found", _("This conversation or message does not exist."))
            await self.close(code=4404)
        except ValueError:
            await self._error("bad_request", _("The message could not be understood."))

    async def _send_turn(self, conversation: Conversation, content: dict[str, Any]) -> None:
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            await self._error("empty", _("Write a message first."))
            return
        if len(text) > MAX_TEXT:
            await self._error("too_long", _("The message is too long."))
            return
        parent_id = content.get("parent_id")
        parent = await self._message(conversation, parent_id) if parent_id else None
        await self._start(conversation, text=text, parent=parent)

    async def _start(
        self, conversation: Conversation, *, text: str | None, parent: Message | None
    ) -> None:
        """Start an answer and tell every tab on the conversation."""
        start = await turn_start(conversation, user=self.scope["user"], text=text, parent=parent)
        await (
            get_chat_runtime()
            .hub()
            .publish(
                conversation_topic(conversation.pk),
                {
                    "type": "message.started",
                    "message_id": start.assistant_message.pk,
                    "parent_id": start.user_message.pk,
                    "user_message_id": start.user_message.pk,
                    "user_text": start.user_message.content,
                    "user_parent_id": start.user_message.parent_id,
                    "model": start.assistant_message.model_name,
                    "title": start.title,
                },
            )
        )

    async def _resume(self, conversation: Conversation, content: dict[str, Any]) -> None:
        """Everything of the answer after ``offset``, then its live stream (deltas carry
        offsets, so the client drops what it already has)."""
        message = await self._message(conversation, content.get("message_id"))
        offset = content.get("offset")
        if not isinstance(offset, int) or offset < 0:
            raise ValueError("offset")
        text = message.content
        if message.status == Message.Status.STREAMING:
            text = await live_text(message.pk) or text
            # This socket renders from the start: the page swaps in everything so far.
            renderer = StreamingRenderer()
            update = renderer.update(text)
            self.renderers[message.pk] = (renderer, len(text))
            await self.send_json(
                {
                    "type": "message.render.reset",
                    "message_id": message.pk,
                    "render": render_json(update, reset=True),
                }
            )
        if len(text) > offset:
            delta: dict[str, Any] = {
                "type": "message.delta",
                "message_id": message.pk,
                "offset": offset,
                "text": text[offset:],
            }
            if message.status == Message.Status.STREAMING:
                # Already shown by the reset above: this only moves the page's offset.
                delta["render"] = {"reset": False, "frozen": "", "tail": None, "raw": ""}
            await self.send_json(delta)
        if message.status != Message.Status.STREAMING:
            await self.send_json(
                {
                    "type": "message.done",
                    "message_id": message.pk,
                    "status": message.status,
                    "length": len(text),
                    "error_code": message.error_code,
                    "error_text": message.error_text,
                }
            )

    async def conversation_event(self, payload: dict[str, Any]) -> None:
        """An event of this conversation from the fan-out; deltas get their HTML here."""
        kind = payload.get("type")
        if kind == "message.delta":
            render = self._render_delta(payload["message_id"], payload["offset"], payload["text"])
            if render is not None:
                payload = {**payload, "render": render}
        elif kind == "message.done":
            self.renderers.pop(payload["message_id"], None)
        await self.send_json(payload)

    def _render_delta(self, message_id: int, offset: int, text: str) -> dict[str, Any] | None:
        """Feed the text this socket's renderer has not seen; None when it cannot (it
        joined mid-answer without a resume), and the page then shows plain text."""
        renderer, fed = self.renderers.get(message_id, (None, 0))
        if renderer is None:
            if offset != 0:
                return None
            renderer = StreamingRenderer()
        if offset > fed:
            return None
        fresh = text[fed - offset :]
        if not fresh:
            return None
        update = renderer.update(fresh)
        self.renderers[message_id] = (renderer, fed + len(fresh))
        return render_json(update)

    async def user_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event)
        if event.get("type") == "session.revoked":
            await self.close(code=4403)
