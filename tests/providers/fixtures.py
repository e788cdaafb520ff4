from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatapp.devstack.processes import ManagedProcess, free_port, wait_for_http_ok
from providers.models import Deployment
from tests.fake_upstream import FakeUpstream

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def deployment_factory(db: None, fake_upstream: FakeUpstream) -> Callable[..., Deployment]:
    """A chat deployment pointing at the fake upstream unless told otherwise."""

    def make(model_name: str = "fake-chat", **fields: Any) -> Deployment:
        fields.setdefault("provider", "openai")
        fields.setdefault("upstream_model", "gpt-fake")
        fields.setdefault("api_base", fake_upstream.base_url)
        return Deployment.objects.create(model_name=model_name, **fields)

    return make


@pytest.fixture(scope="session")
def demo_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo engine `make run` starts (llama.cpp + SmolLM2); yields its /v1 base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("llm") / "llm.log"
    process = ManagedProcess.start(
        "demo-llm",
        [sys.executable, "-m", "chatapp.devstack.llm", "--port", str(port), "--parallel", "1"],
        env=dict(os.environ),
        log=log,
        cwd=ROOT,
    )
    wait_for_http_ok(
        f"http://127.0.0.1:{port}/health",
        timeout=120,
        process=process.process,
        name="demo LLM",
        log=log,
    )
    yield f"http://127.0.0.1:{port}/v1"
    process.stop()
