"""Session-wide test services.

PostgreSQL (with pgvector) and Redis are started by `make test` itself
(``python -m chatapp.devstack test``) before pytest runs and are given to us in
DATABASE_URL and REDIS_URL. Here we start what needs the test database: a real
Celery worker, daphne serving the ASGI app, and the fake upstream.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from chatapp.devstack.processes import ManagedProcess, free_port, wait_for_port
from tests.fake_upstream import FakeUpstream

# Playwright's sync API runs an event loop in the test thread; Django's ORM must be
# allowed there (verified in shared/notes/verified-components.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.personas",
    "tests.oidc_idp",
    "tests.orgs.fixtures",
    "tests.providers.fixtures",
]

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = Path(os.environ.get("PLATFORM_TEST_DATA_DIR", ROOT / ".data")) / "logs"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_database_url() -> str:
    """DATABASE_URL pointed at the database pytest-django created for this session."""
    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + str(connection.settings_dict["NAME"])))


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": test_database_url(), "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture(scope="session")
def fake_upstream_server() -> Iterator[FakeUpstream]:
    server = FakeUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def fake_upstream(fake_upstream_server: FakeUpstream) -> Iterator[FakeUpstream]:
    fake_upstream_server.reset()
    yield fake_upstream_server
    fake_upstream_server.reset()


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup: None, django_db_blocker: object
) -> Iterator[ManagedProcess]:
    """A real worker process consuming from the session's Redis against the test database."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        env = child_env()
    process = ManagedProcess.start(
        "celery-worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "chatapp",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "--without-mingle",
            "--without-gossip",
            "--hostname",
            f"test-{os.getpid()}@%h",
        ],
        env=env,
        log=LOG_DIR / "celery-worker.log",
        cwd=ROOT,
    )
    yield process
    process.stop()


def start_daphne(
    port: int, env: dict[str, str], log: Path, app: str = "chatapp.asgi:application"
) -> ManagedProcess:
    """daphne serving ``app`` (the project's ASGI app) on 127.0.0.1:``port``, once it
    listens."""
    process = ManagedProcess.start(
        "daphne",
        [
            sys.executable,
            "-m",
            "chatapp.serve",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            app,
        ],
        env=env,
        log=log,
        cwd=ROOT,
    )
    wait_for_port("127.0.0.1", port, timeout=30, process=process.process, name="daphne", log=log)
    return process


@pytest.fixture(scope="session")
def live_daphne(django_db_setup: None, django_db_blocker: object) -> Iterator[str]:
    """daphne serving the real ASGI app (HTTP and websockets) on a free port; yields its URL."""
    port = free_port()
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        env = child_env()
    process = start_daphne(port, env, LOG_DIR / "daphne.log")
    yield f"http://127.0.0.1:{port}"
    process.stop()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, object]) -> dict[str, object]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian chromium is required for browser tests (make test installs it)")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, object]) -> dict[str, object]:
    """Employees' browsers ask for Korean first."""
    return {**browser_context_args, "locale": "ko-KR"}


@pytest.fixture(autouse=True)
def _fresh_gateway_state() -> Iterator[None]:
    """Each test starts with no cached configuration, keys, cooldowns or routing stats
    (rolled-back test transactions send no signals to invalidate them)."""
    from providers.pii.policy import policy_cache
    from providers.runtime import RoutingStats, get_runtime
    from providers.vault.index import get_credential_index
    from rag.term_stats import term_stats_forget

    get_credential_index().invalidate()
    policy_cache().invalidate()
    runtime = get_runtime()
    runtime.forget_config()
    runtime.forget_keys()
    runtime.forget_costs()
    runtime.cooldowns.clear()
    runtime.stats = RoutingStats()
    term_stats_forget()
    yield
    runtime.forget_config()
    runtime.forget_costs()
    term_stats_forget()


@pytest.fixture(scope="session", autouse=True)
def _ledger_writer_stopped_at_the_end(django_db_setup: None) -> Iterator[None]:
    """The ledger's writer thread holds a connection; end it before the test database goes."""
    yield
    from providers.runtime import get_runtime

    get_runtime().ledger.stop()
