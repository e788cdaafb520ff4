"""The benchmark's phases: warm-up, one concurrency level (interleaved latency, then a
gateway-only CPU window), streaming (from the unpaced fake and from the paced one), and
the soak."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

import httpx
import psutil

from bench.load import (
    Clients,
    Endpoint,
    PathResult,
    burst,
    chat_body,
    first_token_transits,
    for_duration,
    percentile,
)
from bench.procs import (
    MODEL,
    PACED_MODEL,
    MemorySampler,
    Services,
    cpu_ms,
    host_cpu_ticks,
    steal_share,
    system_cpu_ms,
)
from bench.report import MB, LevelFigures, MemoryFigures, StreamFigures

LEDGER_SETTLE_SECONDS = 0.5  # > the ledger's 0.2 s flush delay: its writes land in the window
STREAM_CONCURRENCY = 8


def _upstream(origin: str) -> Endpoint:
    """A fake upstream's chat completions, called directly."""
    return Endpoint("direct", f"{origin}/v1/chat/completions", {"content-type": "application/json"})


@dataclass
class Bench:
    services: Services
    sampler: MemorySampler
    duration: float
    stream_words: int
    paced_words: int = 20
    staggered_streams: bool = True
    results: list[PathResult] = field(default_factory=list)
    client_process: psutil.Process = field(default_factory=lambda: psutil.Process(os.getpid()))

    @property
    def direct(self) -> Endpoint:
        return _upstream(self.services.fake_origin)

    @property
    def paced_direct(self) -> Endpoint:
        return _upstream(self.services.paced_fake_origin)

    @property
    def gateway(self) -> Endpoint:
        return Endpoint(
            "gateway",
            f"{self.services.gateway_origin}/v1/chat/completions",
            {"content-type": "application/json", "authorization": f"Bearer {self.services.key}"},
        )

    def result(self, path: str) -> PathResult:
        """A new result, remembered so the ledger check can count every gateway request."""
        result = PathResult(path)
        self.results.append(result)
        return result

    @property
    def gateway_requests(self) -> int:
        return sum(r.requests for r in self.results if r.path == "gateway")

    def cpu(self) -> dict[str, float]:
        daphne = self.services.daphne_process
        return {
            "daphne": cpu_ms(daphne),
            "daphne_system": system_cpu_ms(daphne),
            "fake": cpu_ms(self.services.fake_process) + cpu_ms(self.services.paced_fake_process),
            "client": cpu_ms(self.client_process),
        }


def _delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before}


def _ms(seconds: float) -> float:
    return seconds * 1000


async def smoke(bench: Bench) -> None:
    """One request each way; fail loudly before measuring anything."""
    async with Clients(1) as clients:
        for endpoint in (bench.direct, bench.gateway):
            result = bench.result(endpoint.name)
            await burst(clients, endpoint, chat_body(MODEL), result, count=1)
            if result.errors:
                raise RuntimeError(f"{endpoint.name} smoke request failed: {result.error_samples}")


async def warm_up(bench: Bench, requests: int = 200) -> None:
    plain = chat_body(MODEL)
    streamed = chat_body(MODEL, words=bench.stream_words, stream=True)
    async with Clients(8) as clients:
        for endpoint in (bench.direct, bench.gateway):
            result = bench.result(endpoint.name)
            await burst(clients, endpoint, plain, result, count=requests)
            await burst(clients, endpoint, streamed, result, count=16, stream=True)


async def cpu_window(
    bench: Bench, body: bytes, *, concurrency: int, stream: bool
) -> tuple[PathResult, dict[str, float]]:
    """Gateway-only load for the phase's duration; CPU deltas of the three processes."""
    result = bench.result("gateway")
    async with Clients(concurrency) as clients:
        # Open the connections outside the window.
        await burst(
            clients, bench.gateway, body, bench.result("gateway"), count=concurrency, stream=stream
        )
        await asyncio.sleep(LEDGER_SETTLE_SECONDS)
        before, host_before = bench.cpu(), host_cpu_ticks()
        await for_duration(
            clients, bench.gateway, body, result, seconds=bench.duration, stream=stream
        )
        await asyncio.sleep(LEDGER_SETTLE_SECONDS)
        after = bench.cpu()
    cpu = _delta(before, after)
    cpu["steal_share"] = steal_share(host_before, host_cpu_ticks())
    return result, cpu


async def interleaved(
    bench: Bench,
    body: bytes,
    *,
    concurrency: int,
    burst_size: int,
    stream: bool,
    staggered: bool = False,
    direct_endpoint: Endpoint | None = None,
) -> tuple[PathResult, PathResult]:
    """Alternating bursts, direct then gateway, for the phase's duration.

    ``staggered``: the workers start one after another, a direct call's duration
    divided by the concurrency apart, so requests keep arriving while the others are
    in flight (steady concurrency). Otherwise they start together, and a stream whose
    length is paced stays in step with the others: every request then arrives in the
    same instant as seven others."""
    direct, gateway = bench.result("direct"), bench.result("gateway")
    to_upstream = direct_endpoint or bench.direct
    stagger = 0.0
    async with Clients(concurrency) as to_direct, Clients(concurrency) as to_gateway:
        for clients, endpoint in ((to_direct, to_upstream), (to_gateway, bench.gateway)):
            # Open the connections; not measured.
            opening = bench.result(endpoint.name)
            await burst(clients, endpoint, body, opening, count=concurrency * 2, stream=stream)
            if staggered and endpoint.name == "direct":
                stagger = percentile(opening.latencies, 50) / concurrency
        deadline = time.perf_counter() + bench.duration
        while time.perf_counter() < deadline:
            for clients, endpoint, result in (
                (to_direct, to_upstream, direct),
                (to_gateway, bench.gateway, gateway),
            ):
                await burst(
                    clients,
                    endpoint,
                    body,
                    result,
                    count=burst_size,
                    stream=stream,
                    stagger=stagger,
                )
    return direct, gateway


async def level(bench: Bench, concurrency: int) -> LevelFigures:
    body = chat_body(MODEL)
    host_before = host_cpu_ticks()
    direct, gateway = await interleaved(
        bench, body, concurrency=concurrency, burst_size=max(100, concurrency * 10), stream=False
    )
    latency_steal = steal_share(host_before, host_cpu_ticks())
    cpu_result, cpu = await cpu_window(bench, body, concurrency=concurrency, stream=False)
    served = max(1, len(cpu_result.latencies))
    d50, d99 = percentile(direct.latencies, 50), percentile(direct.latencies, 99)
    g50, g99 = percentile(gateway.latencies, 50), percentile(gateway.latencies, 99)
    return LevelFigures(
        concurrency=concurrency,
        direct_requests=direct.requests,
        gateway_requests=gateway.requests,
        direct_errors=direct.errors,
        gateway_errors=gateway.errors + cpu_result.errors,
        direct_p50_ms=_ms(d50),
        direct_p99_ms=_ms(d99),
        gateway_p50_ms=_ms(g50),
        gateway_p99_ms=_ms(g99),
        added_p50_ms=_ms(g50 - d50),
        added_p99_ms=_ms(g99 - d99),
        direct_rps=direct.throughput,
        gateway_rps=gateway.throughput,
        cpu_phase_requests=cpu_result.requests,
        cpu_phase_rps=cpu_result.throughput,
        cpu_ms_per_request=cpu["daphne"] / served,
        cpu_system_share=cpu["daphne_system"] / cpu["daphne"] if cpu["daphne"] else 0.0,
        fake_cpu_ms_per_request=cpu["fake"] / served,
        client_cpu_ms_per_request=cpu["client"] / served,
        steal_share=latency_steal,
        cpu_steal_share=cpu["steal_share"],
        error_samples=direct.error_samples + gateway.error_samples + cpu_result.error_samples,
    )


async def streaming(bench: Bench, per_request_cpu_ms: float, *, paced: bool) -> StreamFigures:
    """Streams at concurrency 8 from the unpaced fake (the cheapest case for the relay:
    chunks come in batches) or from the paced one (a model's pace: the first token's
    overhead is measured here, with the upstream never the bottleneck)."""
    words = bench.paced_words if paced else bench.stream_words
    body = chat_body(PACED_MODEL if paced else MODEL, words=words, stream=True)
    upstream_origin = bench.services.paced_fake_origin if paced else bench.services.fake_origin
    concurrency = STREAM_CONCURRENCY
    host_before = host_cpu_ticks()
    direct, gateway = await interleaved(
        bench,
        body,
        concurrency=concurrency,
        burst_size=concurrency * 4,
        stream=True,
        staggered=bench.staggered_streams,
        direct_endpoint=bench.paced_direct if paced else bench.direct,
    )
    latency_steal = steal_share(host_before, host_cpu_ticks())
    upstream = await upstream_first_tokens(upstream_origin)
    d_transit = first_token_transits(direct, upstream)
    g_transit = first_token_transits(gateway, upstream)
    d_own = upstream_own_ttfts(direct, upstream)
    g_own = upstream_own_ttfts(gateway, upstream)
    cpu_result, cpu = await cpu_window(bench, body, concurrency=concurrency, stream=True)
    streams = max(1, len(cpu_result.latencies))
    chunks = max(1, cpu_result.chunks)
    d50, d99 = percentile(direct.ttfts, 50), percentile(direct.ttfts, 99)
    g50, g99 = percentile(gateway.ttfts, 50), percentile(gateway.ttfts, 99)
    return StreamFigures(
        concurrency=concurrency,
        words=words,
        chunk_delay_ms=(bench.services.paced_delay_ms if paced else bench.services.chunk_delay_ms),
        direct_streams=direct.requests,
        gateway_streams=gateway.requests,
        direct_errors=direct.errors,
        gateway_errors=gateway.errors + cpu_result.errors,
        direct_ttft_p50_ms=_ms(d50),
        direct_ttft_p99_ms=_ms(d99),
        gateway_ttft_p50_ms=_ms(g50),
        gateway_ttft_p99_ms=_ms(g99),
        ttft_overhead_p50_ms=_ms(g50 - d50),
        ttft_overhead_p99_ms=_ms(g99 - d99),
        direct_transit_p50_ms=_ms(percentile(d_transit, 50)),
        direct_transit_p99_ms=_ms(percentile(d_transit, 99)),
        gateway_transit_p50_ms=_ms(percentile(g_transit, 50)),
        gateway_transit_p99_ms=_ms(percentile(g_transit, 99)),
        transit_overhead_p50_ms=_ms(percentile(g_transit, 50) - percentile(d_transit, 50)),
        transit_overhead_p99_ms=_ms(percentile(g_transit, 99) - percentile(d_transit, 99)),
        transit_matched=(len(d_transit), len(g_transit)),
        direct_upstream_ttft_p50_ms=_ms(percentile(d_own, 50)),
        direct_upstream_ttft_p99_ms=_ms(percentile(d_own, 99)),
        gateway_upstream_ttft_p50_ms=_ms(percentile(g_own, 50)),
        gateway_upstream_ttft_p99_ms=_ms(percentile(g_own, 99)),
        direct_total_p50_ms=_ms(percentile(direct.latencies, 50)),
        gateway_total_p50_ms=_ms(percentile(gateway.latencies, 50)),
        chunks_per_stream=cpu_result.chunks / streams,
        cpu_phase_streams=len(cpu_result.latencies),
        cpu_phase_chunks=cpu_result.chunks,
        cpu_ms_per_stream=cpu["daphne"] / streams,
        cpu_system_share=cpu["daphne_system"] / cpu["daphne"] if cpu["daphne"] else 0.0,
        cpu_us_per_chunk=cpu["daphne"] * 1000 / chunks,
        cpu_us_per_chunk_marginal=(cpu["daphne"] - per_request_cpu_ms * streams) * 1000 / chunks,
        steal_share=latency_steal,
        cpu_steal_share=cpu["steal_share"],
        error_samples=direct.error_samples + gateway.error_samples + cpu_result.error_samples,
    )


async def upstream_first_tokens(origin: str) -> dict[str, tuple[float, float]]:
    """The fake's own first-token times since the last call (it forgets them)."""
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{origin}/__fake/first-tokens")
        response.raise_for_status()
        return {tag: (float(a), float(w)) for tag, (a, w) in response.json().items()}


def upstream_own_ttfts(result: PathResult, upstream: dict[str, tuple[float, float]]) -> list[float]:
    """The upstream's own first-token time (arrival to first content chunk written) of
    each of the result's streams."""
    own = []
    for tag in result.first_tokens:
        times = upstream.get(tag)
        if times is not None:
            arrived, written = times
            own.append(written - arrived)
    return own


async def soak(bench: Bench, seconds: float, memory: MemoryFigures) -> None:
    """Steady mixed load through the gateway (8 non-streamed + 2 streaming workers)."""
    plain, streams = bench.result("gateway"), bench.result("gateway")
    started = time.monotonic()
    streamed = chat_body(MODEL, words=bench.stream_words, stream=True)
    async with Clients(8) as plain_clients, Clients(2) as stream_clients:
        await asyncio.gather(
            for_duration(plain_clients, bench.gateway, chat_body(MODEL), plain, seconds=seconds),
            for_duration(
                stream_clients, bench.gateway, streamed, streams, seconds=seconds, stream=True
            ),
        )
    samples = bench.sampler.since(started)
    step = 60.0 if seconds >= 120 else max(1.0, seconds / 4)
    marks: list[tuple[float, float]] = []
    mark = step
    while mark <= seconds + 0.5 and samples:
        at = min(samples, key=lambda s: abs(s[0] - started - mark))
        marks.append((mark, at[1] / MB))
        mark += step
    memory.soak_seconds = seconds
    memory.soak_requests = plain.requests
    memory.soak_streams = streams.requests
    memory.soak_errors = plain.errors + streams.errors
    memory.soak_marks = marks
    if marks:
        memory.soak_growth = marks[-1][1] / marks[0][1] - 1
