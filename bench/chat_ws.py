"""Chat websocket benchmark: N simultaneous conversations against the fake upstream
streaming 20 tokens/s each, through one daphne process.

Reports, per N: the delay the platform adds between tokens (the gap between two
consecutive text events minus the upstream's 50 ms), p50/p99; time to first
token; daphne CPU per relayed token; daphne memory. The answer to the issue's
question is the largest N whose added inter-token delay stays under 100 ms at p99.

    .venv/bin/python -m bench.chat_ws [--levels 25,50,100,200] [--words 40] [--profile DIR]

With ``--profile``, py-spy samples daphne (threads holding the GIL) during each
level and writes ``DIR/chat-ws-N.txt`` (collapsed stacks, for a flame graph).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.load import percentile
from bench.procs import DATA_DIR, USER_EMAIL, cpu_ms, start_services
from chatapp.devstack.stack import Stack

TOKEN_INTERVAL_MS = 50.0  # the fake upstream paces chunks like a 20 tokens/s model
TARGET_ADDED_P99_MS = 100.0
SETUP = """
import json
from chatapp.services import conversation_create
from django.contrib.sessions.backends.db import SessionStore
from orgs.models import User
user = User.objects.get(email="{email}")
ids = [conversation_create(user=user, model_name="bench-model").pk for _ in range({n})]
session = SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print(json.dumps({{"ids": ids, "session": session.session_key}}))
"""


@dataclass
class Conversation:
    ttft_ms: float | None = None
    gaps_ms: list[float] = field(default_factory=list)
    tokens: int = 0
    done: bool = False


async def converse(url: str, origin: str, session_key: str, text: str, out: Conversation) -> None:
    headers = {"Origin": origin, "Cookie": f"sessionid={session_key}"}
    async with aiohttp.ClientSession() as client, client.ws_connect(url, headers=headers) as ws:
        await ws.receive_json(timeout=30)  # ready
        sent = time.monotonic()
        await ws.send_json({"type": "send", "text": text, "parent_id": None})
        last: float | None = None
        while True:
            event = await ws.receive_json(timeout=60)
            now = time.monotonic()
            if event["type"] == "message.delta":
                out.tokens += max(1, len(event["text"].split()))
                if last is None:
                    out.ttft_ms = (now - sent) * 1000
                else:
                    out.gaps_ms.append((now - last) * 1000)
                last = now
            elif event["type"] == "message.done":
                out.done = True
                return


async def run_level(
    origin: str, session_key: str, ids: list[int], words: int
) -> list[Conversation]:
    text = " ".join(f"w{i}" for i in range(words))
    results = [Conversation() for _ in ids]
    ws_origin = origin.replace("http://", "ws://")
    await asyncio.gather(
        *(
            converse(f"{ws_origin}/ws/chat/{cid}/", origin, session_key, text, out)
            for cid, out in zip(ids, results, strict=True)
        )
    )
    return results


def profile_start(pid: int, folder: Path, n: int) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    out = folder / f"chat-ws-{n}.txt"
    return subprocess.Popen(  # noqa: S603 - our own tool on our own process
        [str(spy), "record", "-p", str(pid), "--gil", "-r", "250", "-f", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--levels", default="25,50,100,200")
    parser.add_argument("--words", type=int, default=40)
    parser.add_argument("--profile", type=Path, default=None, help="py-spy output folder")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-ws-", dir=DATA_DIR))
    stack = Stack(data_dir=scratch, persist=False)
    rows = []
    try:
        services = start_services(stack, scratch, chunk_delay_ms=TOKEN_INTERVAL_MS)
        daphne = services.daphne_process
        best = 0
        for n in levels:
            setup = json.loads(
                services.shell(SETUP.format(email=USER_EMAIL, n=n)).strip().splitlines()[-1]
            )
            profiler = profile_start(daphne.pid, args.profile, n) if args.profile else None
            cpu_before = cpu_ms(daphne)
            started = time.monotonic()
            results = asyncio.run(
                run_level(services.gateway_origin, setup["session"], setup["ids"], args.words)
            )
            elapsed = time.monotonic() - started
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)  # py-spy writes what it has and exits
                profiler.wait(timeout=60)
            cpu = cpu_ms(daphne) - cpu_before
            gaps = [g - TOKEN_INTERVAL_MS for r in results for g in r.gaps_ms]
            ttfts = [r.ttft_ms for r in results if r.ttft_ms is not None]
            tokens = sum(r.tokens for r in results)
            row = {
                "conversations": n,
                "completed": sum(r.done for r in results),
                "added_gap_p50_ms": percentile(gaps, 50),
                "added_gap_p99_ms": percentile(gaps, 99),
                "ttft_p50_ms": percentile(ttfts, 50),
                "ttft_p99_ms": percentile(ttfts, 99),
                "tokens": tokens,
                "cpu_us_per_token": cpu * 1000 / max(tokens, 1),
                "seconds": elapsed,
                "rss_mb": daphne.memory_info().rss / 2**20,
            }
            rows.append(row)
            ok = row["completed"] == n and row["added_gap_p99_ms"] < TARGET_ADDED_P99_MS
            best = n if ok else best
            line = (
                f"N={n:4d} completed {row['completed']}/{n}"
                f"  added gap p50 {row['added_gap_p50_ms']:.1f} ms"
                f" p99 {row['added_gap_p99_ms']:.1f} ms"
                f"  TTFT p99 {row['ttft_p99_ms']:.0f} ms"
                f"  CPU {row['cpu_us_per_token']:.0f} us/token"
                f"  RSS {row['rss_mb']:.0f} MB  {'ok' if ok else 'over'}"
            )
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        sys.stdout.write(
            f"largest N with added p99 < {TARGET_ADDED_P99_MS:.0f} ms: {best} (target 200)\n"
        )
        out = DATA_DIR / "bench" / f"chat-ws-{time.strftime('%Y%m%dT%H%M%S')}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"levels": rows, "largest_ok": best}, indent=1), encoding="utf-8")
        sys.stdout.write(f"JSON: {out}\n")
        return 0
    except Exception:
        log = scratch / "logs" / "daphne.log"
        if log.exists():
            sys.stderr.write(log.read_text(errors="replace")[-4000:])
        raise
    finally:
        stack.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
