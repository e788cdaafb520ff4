"""Run a coroutine from a test, whatever the test thread is already doing.

Browser tests leave Playwright's event loop running on the main thread, where
``asyncio.run`` refuses to start; a short-lived thread always can.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
