"""``python -m tests.fake_upstream --port P [--host 127.0.0.1] [--chunk-delay S]``: the
fake upstream as its own process, with the same routes as in the tests, until SIGTERM
or SIGINT. ``--chunk-delay`` paces every streamed chunk, as a model emitting tokens
would (default 0: as fast as it can).

Used by the gateway benchmark (``python -m bench.gateway``). Needs no Django settings:
the server and its format modules import only aiohttp, the crypto libraries and
``chatapp.devstack.processes``. Requests are not recorded here (no test reads them
from another process, and a long run would grow the list without bound).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any

from aiohttp import web

from tests.fake_upstream.server import FakeUpstream, Fault


class StandaloneUpstream(FakeUpstream):
    chunk_delay: float = 0.0

    def record(self, request: web.Request, body: dict[str, Any]) -> None:
        return None

    def take_fault(self, path: str) -> Fault | None:
        if self.chunk_delay > 0:
            return Fault(chunk_delay=self.chunk_delay)
        return None


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_upstream")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--chunk-delay", type=float, default=0.0, help="seconds per chunk")
    args = parser.parse_args()
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    upstream = StandaloneUpstream(host=args.host, port=args.port)
    upstream.chunk_delay = args.chunk_delay
    upstream.start()
    sys.stdout.write(f"ready {upstream.origin}\n")
    sys.stdout.flush()
    while not stopping.wait(0.5):
        pass
    upstream.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
