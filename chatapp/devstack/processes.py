"""Start, wait for and stop child processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


class ServiceError(RuntimeError):
    """A local service failed to start; the message says which and where its log is."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    host: str,
    port: int,
    *,
    timeout: float,
    process: subprocess.Popen[bytes] | None,
    name: str,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceError(f"{name} exited with code {process.returncode}" + _log_hint(log))
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ServiceError(
        f"{name} did not listen on {host}:{port} within {timeout:.0f} s" + _log_hint(log)
    )


def _log_hint(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
    return f"; see {log}:\n" + "\n".join(tail)


@dataclass
class ManagedProcess:
    """A child in its own session, so a terminal's Ctrl-C reaches only the supervisor."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @classmethod
    def start(
        cls,
        name: str,
        argv: list[str],
        *,
        env: dict[str, str],
        log: Path | None = None,
        cwd: Path | None = None,
    ) -> ManagedProcess:
        log_file = None
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            log_file = log.open("ab")
        process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=log_file,
            stderr=subprocess.STDOUT if log_file else None,
            start_new_session=True,
        )
        return cls(name=name, process=process, log=log, _log_file=log_file)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        if self._log_file is not None:
            self._log_file.close()


def wait_for_http_ok(
    url: str,
    *,
    timeout: float,
    process: subprocess.Popen[bytes] | None,
    name: str,
    log: Path | None = None,
) -> None:
    """Wait until ``url`` answers 200 (a server may listen before it is ready)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceError(f"{name} exited with code {process.returncode}" + _log_hint(log))
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback URL we built
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise ServiceError(f"{name} was not ready at {url} within {timeout:.0f} s" + _log_hint(log))
