"""The gateway's per-process caches (providers.reloading, providers.runtime): past its
age a value is still served to async callers while one reload runs beside them; past
twice its age a caller waits for the load; a load that began before a change is never
kept; a cached key that has expired since it was read is refused."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from providers.keys import virtual_key_create
from providers.pii.policy import PolicyCache
from providers.reloading import Reloading
from providers.runtime import GatewayRuntime
from providers.vault.index import CredentialIndex
from tests.aio import run
from tests.personas import Personas

WAIT = 5.0
MAX_AGE = 60.0


class Loads:
    """Values "v1", "v2", ...; with ``held``, each load waits until released."""

    def __init__(self, *, held: bool = False) -> None:
        self.count = 0
        self.started = threading.Event()
        self.release = threading.Event()
        if not held:
            self.release.set()

    def __call__(self) -> str:
        self.count += 1
        self.started.set()
        assert self.release.wait(WAIT)
        return f"v{self.count}"


def loaded(loads: Loads, *, age: float) -> Reloading[str]:
    cache = Reloading("test value", loads, max_age=MAX_AGE)
    assert cache.get() == "v1"
    cache._loaded_at -= age
    return cache


def test_a_value_past_its_age_is_served_while_one_reload_runs_beside() -> None:
    loads = Loads()
    cache = loaded(loads, age=MAX_AGE + 1)
    loads.release.clear()  # the reload will be held

    async def scenario() -> tuple[list[str], str]:
        served = await asyncio.wait_for(
            asyncio.gather(*(cache.aget() for _ in range(8))), timeout=1.0
        )
        loads.release.set()
        await cache.settled()
        return served, await cache.aget()

    served, after = run(scenario())
    assert served == ["v1"] * 8  # nobody waited for the held reload
    assert loads.count == 2  # one reload for all of them
    assert after == "v2"


def test_past_twice_its_age_a_caller_waits_for_the_load() -> None:
    loads = Loads()
    cache = loaded(loads, age=2 * MAX_AGE + 1)
    assert run(cache.aget()) == "v2"


def test_blocking_callers_always_load_a_value_past_its_age() -> None:
    loads = Loads()
    cache = loaded(loads, age=MAX_AGE + 1)
    assert cache.get() == "v2"


def test_a_value_loaded_before_a_change_is_not_kept() -> None:
    loads = Loads()
    cache = loaded(loads, age=MAX_AGE + 1)
    loads.release.clear()
    loads.started.clear()

    async def scenario() -> None:
        await cache.aget()
        assert await asyncio.to_thread(loads.started.wait, WAIT)
        cache.invalidate()  # a change arrives while the reload reads
        loads.release.set()
        await cache.settled()

    run(scenario())
    assert cache.fresh() is None  # the next caller loads again
    assert cache.get() == "v3"


def test_a_failed_reload_beside_leaves_the_value_and_a_later_caller_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("database went away")
        return f"v{calls}"

    cache = Reloading("test value", flaky, max_age=MAX_AGE)
    cache.get()
    cache._loaded_at -= MAX_AGE + 1

    async def scenario() -> list[str]:
        first = await cache.aget()
        await cache.settled()
        second = await cache.aget()
        await cache.settled()
        return [first, second, await cache.aget()]

    assert run(scenario()) == ["v1", "v1", "v3"]
    assert "could not reload the gateway's test value" in caplog.text


def test_the_caches_of_the_gateway_reload_beside_their_requests() -> None:
    runtime = GatewayRuntime()
    for cache in (runtime.config, runtime.costs, PolicyCache(), CredentialIndex()._index):
        assert isinstance(cache, Reloading)
        assert cache.max_age > 0


def test_a_cached_key_that_expires_is_refused_at_once(personas: Personas) -> None:
    runtime = GatewayRuntime()
    issued = virtual_key_create(
        user=personas.member, expires_at=timezone.now() + timedelta(seconds=0.5)
    )
    assert runtime.caller_sync(issued.plaintext) is not None  # now cached for 30 s
    time.sleep(0.6)
    assert runtime.caller_sync(issued.plaintext) is None
    assert run(runtime.caller(issued.plaintext)) is None


def test_a_key_without_the_prefix_is_refused_without_a_query(
    db: None, django_assert_num_queries: object
) -> None:
    runtime = GatewayRuntime()
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert runtime.caller_sync("not-a-key") is None
