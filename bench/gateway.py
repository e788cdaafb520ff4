"""Gateway overhead benchmark, run by hand (never by the test suite):

    .venv/bin/python -m bench.gateway [--duration-per-level 10] [--soak 0]
        [--stream-words 200] [--levels 1,8,32,64] [--pin-cores]

Starts its own stack in a scratch folder under .data/ (PostgreSQL, Redis), two fake
upstreams as their own processes (one as fast as it can, one pausing before each chunk
as a model does per token) and one daphne serving ``chatapp.asgi:application`` with
production settings, then measures calling the fakes directly versus through the
gateway (virtual-key auth and the usage ledger on), interleaved in alternating
bursts: added latency p50/p99 per concurrency level, throughput, daphne CPU per
request and per relayed stream chunk (in gateway-only windows), streaming
time-to-first-token overhead, daphne's RSS, and whether the ledger kept one row per
request. Prints a table and PASS/MISS per target; writes the figures as JSON to
``.data/bench/gateway-<timestamp>.json``.

The first-token overhead is measured on the paced fake at a steady concurrency of 8
(streams started staggered), two ways: the difference of the two paths' TTFT
percentiles, and per stream, the client's TTFT less the fake's own (it notes, per
request, when it arrived and when its first chunk left). The unpaced fake is the
bottleneck of its own phase, so its streams' TTFT is mostly their wait in its queue.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import uvloop

from bench import phases
from bench.procs import DATA_DIR, MemorySampler, Services, pin_cores, start_services
from bench.report import (
    MB,
    LedgerFigures,
    MemoryFigures,
    Results,
    evaluate,
    render,
)
from chatapp.devstack.processes import ServiceError
from chatapp.devstack.stack import Stack


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C or SIGTERM, at any point: leave through the clean-up. A KeyboardInterrupt is
    the one exception the event loop lets out of a callback; asyncio's own Ctrl-C handler
    only cancels the main task, which a phase waiting on its workers may absorb."""
    raise KeyboardInterrupt


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3])


def python_speed() -> float:
    """CPU ms of a fixed pure-Python loop: to compare CPU figures across machines."""
    started = time.process_time()
    i = 0
    while i < 5_000_000:
        i += 1
    return (time.process_time() - started) * 1000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__)
    parser.add_argument(
        "--duration-per-level",
        type=float,
        default=10.0,
        help="seconds of interleaved bursts per level, and again of the gateway-only CPU window",
    )
    parser.add_argument(
        "--soak", type=float, default=0.0, help="seconds of steady mixed load (600 for the target)"
    )
    parser.add_argument("--stream-words", type=int, default=200, help="chunks per stream")
    parser.add_argument("--levels", default="1,8,32,64", help="comma-separated concurrencies")
    parser.add_argument(
        "--chunk-delay-ms",
        type=float,
        default=0.0,
        help="the fake's pause before each streamed chunk (default 0: as fast as it can)",
    )
    parser.add_argument(
        "--paced-delay-ms",
        type=float,
        default=20.0,
        help="the paced fake's pause before each chunk, as a model's time per token "
        "(the first-token overhead is measured on it)",
    )
    parser.add_argument("--paced-words", type=int, default=20, help="chunks per paced stream")
    parser.add_argument(
        "--pin-cores",
        action="store_true",
        help="daphne on one core, the fake upstream, the load generator and the databases on "
        "the other(s), so the figures leave out the OS scheduler's sharing of the cores",
    )
    parser.add_argument(
        "--streams-together",
        action="store_true",
        help="start the streaming phase's streams together rather than staggered: with a "
        "paced upstream they then stay in step, and each arrives with seven others",
    )
    args = parser.parse_args(argv)
    try:
        args.levels = [int(x) for x in str(args.levels).split(",") if x.strip()]
    except ValueError:
        parser.error("--levels takes comma-separated integers, such as 1,8,32,64")
    if not args.levels or min(args.levels) < 1:
        parser.error("--levels needs at least one concurrency, each at least 1")
    if (
        args.duration_per_level <= 0
        or min(args.stream_words, args.paced_words) < 1
        or min(args.soak, args.chunk_delay_ms) < 0
        or args.paced_delay_ms <= 0
    ):
        parser.error(
            "--duration-per-level, --stream-words, --paced-words and --paced-delay-ms must be "
            "positive, --soak and --chunk-delay-ms not negative"
        )
    return args


async def measure(bench: phases.Bench, args: argparse.Namespace, results: Results) -> None:
    stack = bench.services.stack
    await phases.smoke(bench)
    await phases.warm_up(bench)
    warm = bench.sampler.samples[-1][1] if bench.sampler.samples else 0
    stack.log("Warmed up; measuring")
    for concurrency in args.levels:
        figures = await phases.level(bench, concurrency)
        results.levels.append(figures)
        stack.log(
            f"concurrency {concurrency}: added p50 {figures.added_p50_ms:.2f} ms, "
            f"p99 {figures.added_p99_ms:.2f} ms, CPU {figures.cpu_ms_per_request:.3f} ms/request"
        )
    by_concurrency = {lv.concurrency: lv.cpu_ms_per_request for lv in results.levels}
    per_request = by_concurrency.get(
        phases.STREAM_CONCURRENCY, min(by_concurrency.values(), default=0.0)
    )
    results.stream = await phases.streaming(bench, per_request, paced=False)
    stack.log(f"streaming: {results.stream.cpu_us_per_chunk:.1f} µs CPU/chunk")
    results.paced_stream = await phases.streaming(bench, per_request, paced=True)
    stack.log(
        f"paced streaming: TTFT overhead p99 {results.paced_stream.ttft_overhead_p99_ms:.2f} ms "
        f"({results.paced_stream.transit_overhead_p99_ms:.2f} ms per stream), "
        f"{results.paced_stream.cpu_us_per_chunk:.1f} µs CPU/chunk"
    )
    samples = bench.sampler.samples
    results.memory = MemoryFigures(
        start_mb=samples[0][1] / MB,
        after_warmup_mb=warm / MB,
        peak_mb=max(s[1] for s in samples) / MB,
        end_mb=samples[-1][1] / MB,
    )
    if args.soak > 0:
        stack.log(f"Soak: {args.soak:.0f} s of mixed load")
        await phases.soak(bench, args.soak, results.memory)
        samples = bench.sampler.samples
        results.memory.peak_mb = max(s[1] for s in samples) / MB
        results.memory.end_mb = samples[-1][1] / MB


def write_json(results: Results, stamp: str) -> Path:
    out = DATA_DIR / "bench" / f"gateway-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dataclasses.asdict(results), indent=2), encoding="utf-8")
    return out


def keep_log(services: Services | None, stamp: str) -> Path | None:
    """daphne's log, kept when it says anything (it logs warnings and errors only)."""
    if services is None or services.daphne.log is None or not services.daphne.log.exists():
        return None
    if services.daphne.log.stat().st_size == 0:
        return None
    kept = DATA_DIR / "bench" / f"gateway-{stamp}-daphne.log"
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(services.daphne.log, kept)
    return kept


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    results = Results(
        started_at=now.isoformat(timespec="seconds"),
        loadavg_start=loadavg(),
        loadavg_end="",
        cpu_count=os.cpu_count() or 0,
        python_loop_ms=python_speed(),
        settings={
            "duration_per_level": args.duration_per_level,
            "soak": args.soak,
            "stream_words": args.stream_words,
            "levels": args.levels,
            "chunk_delay_ms": args.chunk_delay_ms,
            "paced_delay_ms": args.paced_delay_ms,
            "paced_words": args.paced_words,
            "pin_cores": args.pin_cores,
            "streams_together": args.streams_together,
        },
    )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-", dir=DATA_DIR))
    stack = Stack(data_dir=scratch, persist=False)
    stack.log(f"load average at start: {results.loadavg_start} ({results.cpu_count} CPUs)")
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    services: Services | None = None
    sampler: MemorySampler | None = None
    try:
        services = start_services(
            stack,
            scratch,
            chunk_delay_ms=args.chunk_delay_ms,
            paced_delay_ms=args.paced_delay_ms,
        )
        if args.pin_cores:
            stack.log(f"Pinned: {pin_cores(services)}")
        sampler = MemorySampler(services.daphne_process).start()
        bench = phases.Bench(
            services,
            sampler,
            args.duration_per_level,
            args.stream_words,
            paced_words=args.paced_words,
            staggered_streams=not args.streams_together,
        )
        uvloop.run(measure(bench, args, results))  # the load generator's loop, as the server's
        stack.log("Waiting for the ledger to flush")
        counts = services.ledger_counts(bench.gateway_requests)
        by_status = counts.get("by_status")
        results.ledger = LedgerFigures(
            gateway_requests=bench.gateway_requests,
            rows=int(str(counts["rows"])),
            final_rows=int(str(counts["final_rows"])),
            by_status=dict(by_status) if isinstance(by_status, dict) else {},
        )
    except KeyboardInterrupt:
        stack.log("Interrupted; stopping")
        return 130
    except (ServiceError, subprocess.CalledProcessError, RuntimeError) as exc:
        sys.stderr.write(f"bench.gateway failed: {exc}\n")
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if sampler is not None:
            sampler.stop()
        kept = keep_log(services, stamp)
        if kept is not None:
            stack.log(f"daphne logged warnings or errors: kept in {kept}")
        stack.stop()
        shutil.rmtree(scratch, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    results.loadavg_end = loadavg()
    results.targets = evaluate(results)
    sys.stdout.write("\n" + render(results) + "\n")
    sys.stdout.write(f"\nJSON: {write_json(results, stamp)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
