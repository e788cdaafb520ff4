"""The load generator: closed-loop workers, each with its own client holding one
HTTP/1.1 keep-alive connection (so the pool is sized to the concurrency), timing each
request, and for streams the time to the first chunk with content.

The client is the gateway's own HTTP/1.1 client (``providers.wire``: httptools' C
parser), on uvloop, for the direct and the gateway path alike. The load generator
shares the machine's two cores with the fake upstream and the server under test, so
its own CPU is noise in every figure: with httpx it spent about 1.5 ms per request,
more than the gateway itself, and the three processes together wanted more than the
two cores (the server was descheduled for several milliseconds at a time).

perf_counter and the fake's monotonic clock are the same clock (CLOCK_MONOTONIC), so
a stream's times on both sides can be subtracted (see ``first_token_transits``).

One client per worker rather than one shared client with N connections: a shared
pool made the load generator itself the bottleneck at 32-64 connections.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from providers.wire import WireClient, WireResponse

MAX_ERROR_SAMPLES = 3
TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Endpoint:
    name: str  # "direct" or "gateway"
    url: str
    headers: dict[str, str]


# A stream's body carries this as its ``user``; each request puts its own tag in its
# place, which the gateway forwards and the fake notes with its own first-token times.
TAG_PLACEHOLDER = b"bench-stream-0000000000"
_tags = itertools.count(1)


def chat_body(model: str, *, words: int = 0, stream: bool = False) -> bytes:
    """A small chat request; with ``words``, a prompt the fake echoes as that many chunks.
    A stream's is tagged (``TAG_PLACEHOLDER``)."""
    text = " ".join(f"w{i}" for i in range(words)) if words else "Say hello to the benchmark"
    body: dict[str, object] = {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "max_tokens": max(16, words + 8),
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        body["user"] = TAG_PLACEHOLDER.decode()
    return json.dumps(body).encode()


@dataclass
class PathResult:
    """What one path (direct or gateway) did in one phase."""

    path: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    ttfts: list[float] = field(default_factory=list)  # seconds, streams only
    chunks: int = 0  # SSE data frames received (not counting [DONE])
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    busy: float = 0.0  # wall-clock seconds spent in this path's bursts
    # Streams: tag -> (request sent, first content chunk read), monotonic seconds.
    first_tokens: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.busy if self.busy > 0 else 0.0

    def fail(self, reason: str) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(reason[:300])


class Clients:
    """``concurrency`` clients of one keep-alive connection each, one per worker."""

    def __init__(self, concurrency: int) -> None:
        tls = ssl.create_default_context()
        self.all = [
            WireClient(tls=tls, max_connections=1, keepalive_seconds=TIMEOUT_SECONDS)
            for _ in range(concurrency)
        ]

    @property
    def concurrency(self) -> int:
        return len(self.all)

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.gather(*(client.aclose() for client in self.all))


def has_content(payload: bytes) -> bool:
    try:
        choices = json.loads(payload).get("choices") or []
    except (json.JSONDecodeError, AttributeError):
        return False
    return bool(choices and (choices[0].get("delta") or {}).get("content"))


async def post(client: WireClient, endpoint: Endpoint, body: bytes) -> WireResponse:
    return await client.open(
        "POST",
        endpoint.url,
        endpoint.headers,
        body,
        connect_timeout=TIMEOUT_SECONDS,
        read_timeout=TIMEOUT_SECONDS,
    )


async def call_once(
    client: WireClient, endpoint: Endpoint, body: bytes, result: PathResult
) -> None:
    started = time.perf_counter()
    try:
        response = await post(client, endpoint, body)
        try:
            content = await response.read()
        finally:
            client.finish(response)
    except httpx.HTTPError as exc:
        result.fail(f"{type(exc).__name__}: {exc}")
        return
    if response.status != 200:
        result.fail(f"HTTP {response.status}: {content.decode(errors='replace')}")
        return
    result.latencies.append(time.perf_counter() - started)


async def stream_once(
    client: WireClient, endpoint: Endpoint, body: bytes, result: PathResult
) -> None:
    tag = f"bench-stream-{next(_tags):010d}"
    body = body.replace(TAG_PLACEHOLDER, tag.encode(), 1)
    started = time.perf_counter()
    first: float | None = None
    chunks = 0
    try:
        response = await post(client, endpoint, body)
        try:
            if response.status != 200:
                content = await response.read()
                result.fail(f"HTTP {response.status}: {content.decode(errors='replace')}")
                return
            # Read to the end (past [DONE]) so the connection goes back to the pool.
            rest = b""
            async for data in response.chunks():
                lines = (rest + data).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    if not line.startswith(b"data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == b"[DONE]":
                        continue
                    chunks += 1
                    if first is None and has_content(payload):
                        first = time.perf_counter()
        finally:
            client.finish(response)
    except httpx.HTTPError as exc:
        result.fail(f"{type(exc).__name__}: {exc}")
        return
    if first is None:
        result.fail("stream ended without a chunk with content")
        return
    result.ttfts.append(first - started)
    result.first_tokens[tag] = (started, first)
    result.latencies.append(time.perf_counter() - started)
    result.chunks += chunks


Call = Callable[[WireClient, Endpoint, bytes, PathResult], Awaitable[None]]


async def burst(
    clients: Clients,
    endpoint: Endpoint,
    body: bytes,
    result: PathResult,
    *,
    count: int,
    stream: bool = False,
    stagger: float = 0.0,
) -> None:
    """``count`` requests by one closed-loop worker per client; with ``stagger``, the
    n-th worker starts n times that many seconds after the first."""
    call: Call = stream_once if stream else call_once
    remaining = count

    async def worker(index: int, client: WireClient) -> None:
        nonlocal remaining
        if stagger:
            await asyncio.sleep(index * stagger)
        while remaining > 0:
            remaining -= 1
            await call(client, endpoint, body, result)

    started = time.perf_counter()
    await asyncio.gather(*(worker(n, client) for n, client in enumerate(clients.all)))
    result.busy += time.perf_counter() - started


async def for_duration(
    clients: Clients,
    endpoint: Endpoint,
    body: bytes,
    result: PathResult,
    *,
    seconds: float,
    stream: bool = False,
) -> None:
    """One closed-loop worker per client until ``seconds`` have passed (requests in
    flight finish)."""
    call: Call = stream_once if stream else call_once
    deadline = time.perf_counter() + seconds

    async def worker(client: WireClient) -> None:
        while time.perf_counter() < deadline:
            await call(client, endpoint, body, result)

    started = time.perf_counter()
    await asyncio.gather(*(worker(client) for client in clients.all))
    result.busy += time.perf_counter() - started


def percentile(values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (``pct`` in 0..100); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def first_token_transits(
    result: PathResult, upstream: dict[str, tuple[float, float]]
) -> list[float]:
    """Per stream, the client's time to the first token less the upstream's own (its
    request's arrival to its first content chunk written): the time spent getting the
    request there and the chunk back. Streams the upstream has no times for are left out."""
    transits = []
    for tag, (sent, first) in result.first_tokens.items():
        times = upstream.get(tag)
        if times is not None:
            arrived, written = times
            transits.append((first - sent) - (written - arrived))
    return transits
