"""The live text of answers being generated, kept in Redis while they stream.

Each batch is appended here in the same round trip as its broadcast
(``chatapp.fanout``), so a client that (re)joins reads everything up to now and
then receives every later batch: no gap and, with offsets, no doubles. The
database gets the same text in larger batches (durability); this key expires an
hour after the last write.
"""

from __future__ import annotations

from chatapp.runtime import get_chat_runtime

TEXT_KEY = "chat:live:{}"
STOP_KEY = "chat:stop:{}"
TTL_SECONDS = 3600


async def live_text(message_id: int) -> str | None:
    value = await get_chat_runtime().redis().get(TEXT_KEY.format(message_id))
    return str(value) if value is not None else None


async def stop_request(message_id: int) -> None:
    """Stored, then broadcast to the process generating the answer."""
    runtime = get_chat_runtime()
    await runtime.redis().set(STOP_KEY.format(message_id), "1", ex=TTL_SECONDS)
    await runtime.hub().stop_broadcast(message_id)


async def stop_requested(message_id: int) -> bool:
    return bool(await get_chat_runtime().redis().exists(STOP_KEY.format(message_id)))
