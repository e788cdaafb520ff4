"""One answer being generated: stream from the gateway, relay, persist in batches (R20).

Runs as a task of the web process, independent of any socket: a dropped
connection loses nothing, every tab on the conversation sees the same stream,
and any of them can stop it (a broadcast, noticed at the next chunk). Text goes
to the clients as it arrives (batched every ``RELAY_SECONDS``, through
``chatapp.fanout``, which also keeps the live copy in Redis for late joiners), and
to the database through the loop's batched writer (``chatapp.textwriter``); the
outcome is stored once, at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chatapp.dbthread import db_call
from chatapp.fanout import conversation_topic
from chatapp.live import stop_requested
from chatapp.models import Message
from chatapp.runtime import get_chat_runtime
from chatapp.services import assistant_message_finish
from providers import gateway
from providers.errors import GatewayError, ProviderError

if TYPE_CHECKING:
    from chatapp.fanout import ConversationHub
    from providers.keys import Caller
    from providers.types import ChatRequest, Usage

logger = logging.getLogger(__name__)
RELAY_SECONDS = 0.05
STOP_CHECK_SECONDS = 5.0  # stops arrive by broadcast (chatapp.fanout); this is the fallback
HEARTBEAT_SECONDS = 30.0  # even when the model is silent (see chatapp.tasks.STALE_SECONDS)


def _retrieved(sent: asyncio.Future[None]) -> None:
    if not sent.cancelled():
        sent.exception()


class Relay:
    """The answer's text to the clients: at once when the last batch left at least
    ``RELAY_SECONDS`` ago, else when that time comes (never held until the next
    chunk, which may be a while)."""

    def __init__(self, hub: ConversationHub, topic: str, message_id: int) -> None:
        self._hub, self._topic, self._message_id = hub, topic, message_id
        self._loop = asyncio.get_running_loop()
        self.sent = 0  # characters relayed (code points)
        self._pending = ""
        self._last = -RELAY_SECONDS
        self._timer: asyncio.TimerHandle | None = None
        self._released: asyncio.Future[None] | None = None

    async def add(self, text: str) -> None:
        self._pending += text
        due = self._last + RELAY_SECONDS
        if self._loop.time() >= due:
            await self.flush()
        elif self._timer is None:
            self._timer = self._loop.call_at(due, self._flush_later)

    def _flush_later(self) -> None:
        self._timer = None
        sent = self._send()
        if sent is not None:  # a failure shows at the next chunk's or the final flush
            sent.add_done_callback(_retrieved)

    async def flush(self) -> None:
        """Send what is held, and wait until Redis has everything sent."""
        self.release()
        released, self._released = self._released, None
        if released is not None:
            await released

    def release(self) -> None:
        """Send what is held now, without waiting: the stream has ended, and closing
        it (the gateway's bookkeeping) must not hold back the answer's last words."""
        self.cancel()
        sent = self._send()
        if sent is not None:
            sent.add_done_callback(_retrieved)  # and awaited by flush, if it comes to that
            self._released = sent

    def _send(self) -> asyncio.Future[None] | None:
        if not self._pending:
            return None
        text, self._pending = self._pending, ""
        event = {
            "type": "message.delta",
            "message_id": self._message_id,
            "offset": self.sent,
            "text": text,
        }
        self.sent += len(text)
        self._last = self._loop.time()
        return self._hub.enqueue(self._topic, event, live=(self._message_id, text))

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def answer_finish(
    message_id: int, *, model_name: str, usage: Usage | None, **outcome: Any
) -> Message:
    """Price the answer and store its outcome, in one trip to a database thread."""
    cost = gateway.chat_cost(model_name, usage) if usage is not None else Decimal(0)
    return assistant_message_finish(message_id, usage=usage, cost_usd=cost, **outcome)


async def generate_answer(
    *, conversation_id: int, message_id: int, request: ChatRequest, caller: Caller
) -> None:
    runtime = get_chat_runtime()
    hub, topic, writer = runtime.hub(), conversation_topic(conversation_id), runtime.text_writer()
    relay = Relay(hub, topic, message_id)
    started = time.monotonic()
    first_token: float | None = None
    usage: Usage | None = None
    status, error_code, error_text = Message.Status.COMPLETE, "", ""

    async def heartbeat() -> None:
        # Proves this process is alive while the model is silent (chatapp.tasks sweeps
        # answers without a heartbeat into "interrupted").
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            writer.append(message_id, "")

    await hub.generation_begin(message_id)  # already, when started by chatapp.turns
    beating = asyncio.ensure_future(heartbeat())
    last_stop_check = time.monotonic()
    chunks = gateway.astream(request, caller)
    try:
        async for chunk in chunks:
            if chunk.delta:
                first_token = first_token or time.monotonic()
                writer.append(message_id, chunk.delta)
                await relay.add(chunk.delta)
            if chunk.usage is not None:
                usage = chunk.usage
            if message_id in hub.stopped:
                status = Message.Status.STOPPED
                break
            now = time.monotonic()
            if now - last_stop_check >= STOP_CHECK_SECONDS:
                # Also the stored request, for one broadcast while this loop resubscribed.
                last_stop_check = now
                if await stop_requested(message_id):
                    status = Message.Status.STOPPED
                    break
    except GatewayError as exc:
        status, error_code = Message.Status.ERROR, exc.code
        # The gateway's own refusals (budget, limits, personal data, keys) say what to do;
        # an upstream's failure text is technical, so the page shows its general message.
        error_text = "" if isinstance(exc, ProviderError) else exc.message
        logger.info("generation %s failed: %s", message_id, exc.message)
    finally:
        beating.cancel()
        relay.release()
        hub.generation_end(message_id)
        await chunks.aclose()
    await relay.flush()
    tail = await writer.settle(message_id)
    message = await db_call(answer_finish)(
        message_id,
        model_name=request.model,
        status=status,
        tail=tail,
        usage=usage,
        ttft_ms=(first_token - started) * 1000 if first_token else None,
        latency_ms=(time.monotonic() - started) * 1000,
        error_code=error_code,
        error_text=error_text,
    )
    await hub.publish(
        topic,
        {
            "type": "message.done",
            "message_id": message_id,
            "status": message.status,
            "length": relay.sent,
            "error_code": error_code,
            "error_text": message.error_text,
            "prompt_tokens": message.prompt_tokens,
            "completion_tokens": message.completion_tokens,
            "cost_usd": str(message.cost_usd),
            "ttft_ms": message.ttft_ms,
            "latency_ms": message.latency_ms,
        },
    )
