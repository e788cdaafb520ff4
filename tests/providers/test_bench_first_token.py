"""The gateway benchmark's per-stream first-token measure: the fake upstream notes when
each tagged stream arrived and when its first chunk left, and the benchmark takes that
time out of what its client waited (bench.load.first_token_transits)."""

from __future__ import annotations

import httpx

from bench.load import Clients, Endpoint, PathResult, burst, chat_body, first_token_transits
from tests.aio import run
from tests.fake_upstream import FakeUpstream
from tests.fake_upstream.server import Fault

UPSTREAM_PAUSE = 0.08  # the fake's own wait before each chunk, the first included


def test_the_upstreams_own_first_token_time_is_taken_out(fake_upstream: FakeUpstream) -> None:
    fake_upstream.inject(Fault(chunk_delay=UPSTREAM_PAUSE, times=2))
    endpoint = Endpoint(
        "direct", f"{fake_upstream.base_url}/chat/completions", {"content-type": "application/json"}
    )

    async def two_streams() -> PathResult:
        result = PathResult("direct")
        async with Clients(1) as clients:
            body = chat_body("fake-model", words=2, stream=True)
            await burst(clients, endpoint, body, result, count=2, stream=True)
        return result

    result = run(two_streams())
    notes = httpx.get(f"{fake_upstream.origin}/__fake/first-tokens").json()
    assert len(result.first_tokens) == 2
    assert set(result.first_tokens) <= set(notes)  # each stream had its own tag
    for arrived, written in notes.values():
        assert written - arrived >= UPSTREAM_PAUSE
    transits = first_token_transits(result, {tag: tuple(times) for tag, times in notes.items()})
    assert len(transits) == 2
    for ttft, transit in zip(result.ttfts, transits, strict=True):
        assert ttft >= UPSTREAM_PAUSE
        assert 0 < transit <= ttft - UPSTREAM_PAUSE
    # The notes are handed over once.
    assert httpx.get(f"{fake_upstream.origin}/__fake/first-tokens").json() == {}
