"""One answer being generated: stream from the gateway, relay, persist in batches (R20).

Runs as a task of the web process, independent of any socket: a dropped
connection loses nothing, every tab on the conversation sees the same stream,
and any of them can stop it (noticed within ``STOP_CHECK_SECONDS``). Text goes
to the clients as it arrives (batched every ``RELAY_SECONDS``, through
``chatapp.fanout``, which also keeps the live copy in Redis for late joiners), and
to the database through the loop's batched writer (``chatapp.textwriter``); the
outcome is stored once, at the end.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from chatapp.dbthread import db_call
from chatapp.fanout import conversation_topic
from chatapp.live import stop_requested
from chatapp.models import Message
from chatapp.runtime import get_chat_runtime
from chatapp.services import assistant_message_finish
from providers import gateway
from providers.errors import GatewayError, ProviderError

if TYPE_CHECKING:
    from providers.keys import Caller
    from providers.types import ChatRequest, Usage

logger = logging.getLogger(__name__)
RELAY_SECONDS = 0.05
STOP_CHECK_SECONDS = 0.5
HEARTBEAT_SECONDS = 30.0  # even when the model is silent (see chatapp.tasks.STALE_SECONDS)


@dataclass
class Progress:
    sent: int = 0  # characters relayed (code points)
    pending_relay: str = ""
    last_relay: float = 0.0


async def generate_answer(
    *, conversation_id: int, message_id: int, request: ChatRequest, caller: Caller
) -> None:
    progress = Progress(last_relay=time.monotonic())
    runtime = get_chat_runtime()
    hub, topic, writer = runtime.hub(), conversation_topic(conversation_id), runtime.text_writer()
    started = time.monotonic()
    first_token: float | None = None
    usage: Usage | None = None
    status, error_code, error_text = Message.Status.COMPLETE, "", ""

    async def relay(force: bool = False) -> None:
        now = time.monotonic()
        if progress.pending_relay and (force or now - progress.last_relay >= RELAY_SECONDS):
            text, progress.pending_relay = progress.pending_relay, ""
            await hub.publish(
                topic,
                {
                    "type": "message.delta",
                    "message_id": message_id,
                    "offset": progress.sent,
                    "text": text,
                },
                live=(message_id, text),
            )
            progress.sent += len(text)
            progress.last_relay = now

    async def heartbeat() -> None:
        # Proves this process is alive while the model is silent (chatapp.tasks sweeps
        # answers without a heartbeat into "interrupted").
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            writer.append(message_id, "")

    beating = asyncio.ensure_future(heartbeat())
    last_stop_check = 0.0
    chunks = gateway.astream(request, caller)
    try:
        async for chunk in chunks:
            if chunk.delta:
                first_token = first_token or time.monotonic()
                progress.pending_relay += chunk.delta
                writer.append(message_id, chunk.delta)
            if chunk.usage is not None:
                usage = chunk.usage
            await relay()
            now = time.monotonic()
            if now - last_stop_check >= STOP_CHECK_SECONDS:
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
        await chunks.aclose()
    await relay(force=True)
    cost = Decimal(0)
    if usage is not None:
        cost = await db_call(gateway.chat_cost)(request.model, usage)
    tail = await writer.settle(message_id)
    message = await db_call(assistant_message_finish)(
        message_id,
        status=status,
        tail=tail,
        usage=usage,
        cost_usd=cost,
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
            "length": progress.sent,
            "error_code": error_code,
            "error_text": message.error_text,
            "prompt_tokens": message.prompt_tokens,
            "completion_tokens": message.completion_tokens,
            "cost_usd": str(message.cost_usd),
            "ttft_ms": message.ttft_ms,
            "latency_ms": message.latency_ms,
        },
    )
