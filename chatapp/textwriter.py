"""Streamed answer text to the database in batches, for every answer of a loop at once.

Generations hand their text here instead of each writing its own (R20: batches,
never a rewrite): every ``PERSIST_SECONDS`` (or sooner when an answer has
``PERSIST_CHARS`` waiting) one ``UPDATE`` appends what every streaming answer of
this event loop has gained, on a worker thread, while the streams go on relaying.
A failed write keeps its text for the next one; the live copy in Redis has it
meanwhile. Before storing its outcome, a generation ``settle``s: it takes back its
unwritten text and waits for a write in flight, so the text stays in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from chatapp.dbthread import db_call
from chatapp.services import assistant_texts_append

logger = logging.getLogger(__name__)

PERSIST_SECONDS: Final = 1.0
PERSIST_CHARS: Final = 2000


class AnswerTextWriter:
    def __init__(
        self, *, interval: float = PERSIST_SECONDS, max_chars: int = PERSIST_CHARS
    ) -> None:
        self._interval = interval
        self._max_chars = max_chars
        self._pending: dict[int, list[str]] = {}
        self._pending_chars: dict[int, int] = {}
        self._in_flight: set[int] = set()
        self._written: asyncio.Event = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def append(self, message_id: int, text: str) -> None:
        """Queue ``text`` for the answer (an empty text refreshes its heartbeat)."""
        self._pending.setdefault(message_id, []).append(text)
        chars = self._pending_chars.get(message_id, 0) + len(text)
        self._pending_chars[message_id] = chars
        if chars >= self._max_chars:
            self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def settle(self, message_id: int) -> str:
        """The answer's text not written yet, taken back, once no write of it is in
        flight: what the caller stores next comes after everything written."""
        while message_id in self._in_flight:
            await self._written.wait()
        self._pending_chars.pop(message_id, None)
        return "".join(self._pending.pop(message_id, []))

    async def _run(self) -> None:
        while self._pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval)
            self._wake.clear()
            await self.write()

    async def write(self) -> None:
        """Write everything queued now."""
        if not self._pending:
            return
        batch = {message_id: "".join(parts) for message_id, parts in self._pending.items()}
        self._pending, self._pending_chars = {}, {}
        self._in_flight = set(batch)
        self._written = asyncio.Event()
        try:
            await db_call(assistant_texts_append)(batch)
        except Exception:
            logger.warning("streamed text of %d answers not stored yet; retrying", len(batch))
            for message_id, text in batch.items():
                self._pending[message_id] = [text, *self._pending.get(message_id, [])]
                self._pending_chars[message_id] = sum(map(len, self._pending[message_id]))
        finally:
            self._in_flight = set()
            self._written.set()
