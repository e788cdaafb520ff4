"""A worker killed in the middle of a document: the task is rejected back to the queue
(acks late, rejected on worker loss) and the document still ends ready, indexed once."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from chatapp.devstack.processes import ManagedProcess
from providers.models import Deployment
from rag.models import Chunk, Document
from rag.services import document_create
from rag.tasks import enqueue_ingestion
from tests.fake_upstream import FakeUpstream, Fault
from tests.personas import Personas

pytestmark = pytest.mark.django_db(transaction=True)
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def test_a_document_survives_its_worker_being_killed_mid_embedding(
    personas: Personas,
    deployment_factory: Callable[..., Deployment],
    fake_upstream: FakeUpstream,
    celery_worker_process: ManagedProcess,
) -> None:
    # given an embedding model that is slow to answer the first call
    deployment_factory("embedding", mode="embedding")
    fake_upstream.faults.append(Fault(latency=5.0, path="/v1/embeddings", times=1))
    document = document_create(
        owner=personas.member, filename="korean.md", data=(SAMPLES / "korean.md").read_bytes()
    )
    enqueue_ingestion(document.pk)

    def stage() -> str:
        return Document.objects.get(pk=document.pk).stage

    wait_for(lambda: stage() == Document.Stage.EMBEDDING, 30, "the embedding stage")
    wait_for(
        lambda: any(r.path == "/v1/embeddings" for r in fake_upstream.requests),
        30,
        "the first (slow) embedding call",
    )
    # when the process running the task dies (as an out-of-memory kill would do it)
    children = psutil.Process(celery_worker_process.process.pid).children()
    assert children, "the prefork pool has a child process"
    for child in children:
        os.kill(child.pid, signal.SIGKILL)

    # then the task runs again and the document becomes ready, its chunks stored once
    def status() -> str:
        return Document.objects.get(pk=document.pk).status

    wait_for(lambda: status() in (Document.Status.READY, Document.Status.FAILED), 90, "ready")
    finished = Document.objects.get(pk=document.pk)
    assert finished.status == Document.Status.READY, finished.error
    ordinals = list(Chunk.objects.filter(document=document).values_list("ordinal", flat=True))
    assert ordinals and sorted(ordinals) == list(range(len(ordinals)))
    embedding_calls = [r for r in fake_upstream.requests if r.path == "/v1/embeddings"]
    assert len(embedding_calls) >= 2  # the killed attempt and the one that finished
