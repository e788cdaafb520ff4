"""Retrieval quality on a passage/query set (``manage.py rag_eval``).

The set is two JSONL files: passages ``{id, title, text}`` and queries
``{id, query, gold_passage_id, answer}``. Each passage becomes a document of a
throwaway organization, indexed by the real services; each query is then asked
as that organization's owner through the same permission-filtered rankings as a
real search (``rag.search``): keyword only, vector only and hybrid (RRF). A
passage may be split into several chunks, so rankings of chunks are turned into
rankings of documents (first occurrence wins) before they are scored.

The metric functions at the top are pure; the rest needs the database.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from django.db import transaction
from django.test.utils import override_settings

from orgs.models import Organization, User
from providers import gateway
from providers.errors import GatewayError
from providers.types import EmbeddingRequest
from rag import search
from rag.errors import DocumentError
from rag.ingestion.chunking import chunk_blocks
from rag.ingestion.parsers import parse_document
from rag.models import EMBEDDING_DIM, Chunk, Document
from rag.services import HEADING_SEPARATOR, document_create, document_ingest, parse_limits
from rag.tokens import search_tokens

METHODS: Final = ("keyword", "vector", "hybrid")
WORKSPACE_SLUG_PREFIX: Final = "rag-eval-"

Progress = Callable[[str], None]


class EvaluationError(Exception):
    """The set cannot be evaluated (bad file, unknown gold passage, failed ingestion)."""


# --- Pure metrics ---------------------------------------------------------------


@dataclass(frozen=True)
class Metrics:
    queries: int
    recall_at_1: float
    recall_at_5: float
    recall_at_k: float
    mrr_at_k: float
    k: int


def document_ranking(document_ids: Sequence[int]) -> list[int]:
    """Chunk hits (as their document ids, best first) → documents, best first."""
    return list(dict.fromkeys(document_ids))


def gold_rank(ranking: Sequence[int], gold: int) -> int | None:
    """1-based rank of ``gold`` in ``ranking``; None when it is not there."""
    for position, item in enumerate(ranking, start=1):
        if item == gold:
            return position
    return None


def metrics_from_ranks(ranks: Sequence[int | None], *, k: int = 10) -> Metrics:
    """Recall@1, @5, @k and MRR@k over the gold ranks of all queries (None: not found).

    A rank beyond ``k`` counts as a miss for every figure, as if only ``k`` results
    had been returned."""
    if k < 1:
        raise ValueError("k must be at least 1.")
    n = len(ranks)
    if n == 0:
        return Metrics(
            queries=0, recall_at_1=0.0, recall_at_5=0.0, recall_at_k=0.0, mrr_at_k=0.0, k=k
        )
    found = [r for r in ranks if r is not None and r <= k]

    def recall(cutoff: int) -> float:
        return sum(1 for r in found if r <= cutoff) / n

    return Metrics(
        queries=n,
        recall_at_1=recall(1),
        recall_at_5=recall(min(5, k)),
        recall_at_k=recall(k),
        mrr_at_k=sum(1.0 / r for r in found) / n,
        k=k,
    )


# --- The set --------------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class EvalQuery:
    id: str
    query: str
    gold_passage_id: str


def _jsonl(path: Path, fields: tuple[str, ...]) -> Iterator[dict[str, str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationError(f"Cannot read {path}: {error}") from error
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise EvaluationError(f"{path}:{number}: not JSON ({error.msg}).") from error
        if not isinstance(row, dict) or not all(isinstance(row.get(f), str) for f in fields):
            raise EvaluationError(f"{path}:{number}: needs string fields {', '.join(fields)}.")
        yield row


def passages_load(path: Path) -> list[Passage]:
    passages = [
        Passage(r["id"], r["title"], r["text"]) for r in _jsonl(path, ("id", "title", "text"))
    ]
    if len({p.id for p in passages}) != len(passages):
        raise EvaluationError(f"{path}: passage ids are not unique.")
    return passages


def queries_load(path: Path) -> list[EvalQuery]:
    return [
        EvalQuery(r["id"], r["query"], r["gold_passage_id"])
        for r in _jsonl(path, ("id", "query", "gold_passage_id"))
    ]


# --- Indexing -------------------------------------------------------------------


def workspace_create() -> User:
    """A throwaway organization (slug ``rag-eval-<hex>``) and its only user, the owner
    of every evaluated document."""
    tag = uuid.uuid4().hex[:12]
    organization = Organization.objects.create(
        slug=f"{WORKSPACE_SLUG_PREFIX}{tag}", name=f"RAG evaluation {tag} (temporary)"
    )
    return User.objects.create_user(f"rag-eval-{tag}@rag-eval.invalid", organization=organization)


def workspace_delete(owner: User) -> None:
    """Remove the owner's documents (chunks, grants, stored files), the owner and the
    organization. Audit events stay: the audit log is append-only."""
    organization_id = owner.organization_id
    files = [
        (d.file.storage, d.file.name)
        for d in Document.objects.filter(owner=owner)
        if d.file and d.file.name
    ]
    with transaction.atomic():
        Document.objects.filter(owner=owner).delete()
        owner.delete()
        if organization_id is not None:
            Organization.objects.filter(pk=organization_id).delete()
    for storage, name in files:
        if name:
            storage.delete(name)


def embedding_available(model: str) -> str | None:
    """None when ``model`` answers an embedding request through the gateway; otherwise
    why not (unknown model, upstream down...)."""
    try:
        response = gateway.embed(
            EmbeddingRequest(model=model, inputs=["확인"], dimensions=EMBEDDING_DIM)
        )
    except GatewayError as error:
        return getattr(error, "message", "") or str(error) or type(error).__name__
    if not response.vectors or not response.vectors[0]:
        return "the model returned no vector"
    return None


def _index_without_vectors(document: Document) -> None:
    """Keyword-only indexing when no embedding model is available: the same parser,
    chunker and tokens as ``document_ingest``, with empty embeddings."""
    with document.file.open("rb") as handle:
        parsed = parse_document(handle.read(), document.filename, parse_limits())
    chunks = chunk_blocks(parsed.blocks)
    if not chunks:
        raise DocumentError("The document contains no text.")
    with transaction.atomic():
        Chunk.objects.filter(document=document).delete()
        Chunk.objects.bulk_create(
            Chunk(
                document=document,
                ordinal=i,
                text=c.text,
                page=c.page,
                heading_path=HEADING_SEPARATOR.join(c.heading_path),
                search_tokens=search_tokens(HEADING_SEPARATOR.join([*c.heading_path, c.text])),
            )
            for i, c in enumerate(chunks)
        )
        Document.objects.filter(pk=document.pk).update(
            status=Document.Status.READY, stage="", progress=100, page_count=parsed.page_count
        )


def passages_index(
    *, owner: User, passages: Sequence[Passage], embed: bool, progress: Progress | None = None
) -> dict[str, int]:
    """Create and index one document per passage (title as the document title, text
    as a UTF-8 text file); ``{passage id: document id}``. Raises ``EvaluationError``
    naming the first passage that did not become ready."""
    mapping: dict[str, int] = {}
    for number, passage in enumerate(passages, start=1):
        document = document_create(
            owner=owner,
            filename=f"{passage.id}.txt",
            data=passage.text.encode("utf-8"),
            title=passage.title,
            content_type="text/plain",
            allow_duplicate=True,
        )
        if embed:
            ingested = document_ingest(document.pk)
            if ingested is None or ingested.status != Document.Status.READY:
                reason = ingested.error if ingested else "deleted"
                raise EvaluationError(f"Passage {passage.id} was not indexed: {reason}")
        else:
            _index_without_vectors(document)
        mapping[passage.id] = document.pk
        if progress and (number % 100 == 0 or number == len(passages)):
            progress(f"indexed {number}/{len(passages)} passages")
    return mapping


# --- Retrieval and scoring ------------------------------------------------------


@dataclass(frozen=True)
class EvaluationResult:
    metrics: dict[str, Metrics]
    passages: int
    chunks: int
    embedding_model: str | None
    index_seconds: float
    search_seconds: dict[str, float]


def method_ranking(owner: User, query: str, *, method: str, model: str, k: int) -> list[int]:
    """Document ids, best first (at most ``k``), as ``owner`` searching ``query``
    through the permission-filtered rankings of ``rag.search``."""
    limit = max(search.MIN_CANDIDATES, 4 * k)
    if method == "keyword":
        hits = [c.document_id for c in search.keyword_ranking(owner, query, limit=limit)]
    elif method == "vector":
        vector = search.query_embedding(owner, query, model=model)
        hits = [
            c.document_id for c in search.vector_ranking(owner, vector, model=model, limit=limit)
        ]
    elif method == "hybrid":
        hits = [
            r.document_id for r in search.hybrid_search(owner, query, k=limit, candidates=limit)
        ]
    else:
        raise ValueError(f"Unknown method {method!r}.")
    return document_ranking(hits)[:k]


@contextmanager
def embedding_model_setting(model: str) -> Iterator[None]:
    """Ingestion and hybrid search read ``settings.RAG_EMBEDDING_MODEL``; the
    evaluation may name another model for its run only."""
    with override_settings(RAG_EMBEDDING_MODEL=model):
        yield


def evaluation_run(
    *,
    passages: Sequence[Passage],
    queries: Sequence[EvalQuery],
    embedding_model: str | None,
    k: int = 10,
    keep: bool = False,
    progress: Progress | None = None,
) -> EvaluationResult:
    """Index ``passages`` in a throwaway workspace, score every method over
    ``queries`` and (unless ``keep``) delete the workspace again. Without an
    ``embedding_model`` only the keyword method is scored."""
    if not passages or not queries:
        raise EvaluationError("The set needs at least one passage and one query.")
    passage_ids = {p.id for p in passages}
    unknown = [q.id for q in queries if q.gold_passage_id not in passage_ids]
    if unknown:
        raise EvaluationError(
            f"{len(unknown)} queries name a gold passage that is not in the passages "
            f"(first: {unknown[0]})."
        )
    methods = METHODS if embedding_model else ("keyword",)
    model = embedding_model or ""
    owner = workspace_create()
    try:
        with embedding_model_setting(model or "none"):
            started = time.monotonic()
            mapping = passages_index(
                owner=owner, passages=passages, embed=bool(embedding_model), progress=progress
            )
            index_seconds = time.monotonic() - started
            chunks = Chunk.objects.filter(document__owner=owner).count()
            ranks: dict[str, list[int | None]] = {m: [] for m in methods}
            seconds: dict[str, float] = dict.fromkeys(methods, 0.0)
            for number, item in enumerate(queries, start=1):
                gold = mapping[item.gold_passage_id]
                for method in methods:
                    started = time.monotonic()
                    ranking = method_ranking(owner, item.query, method=method, model=model, k=k)
                    seconds[method] += time.monotonic() - started
                    ranks[method].append(gold_rank(ranking, gold))
                if progress and (number % 100 == 0 or number == len(queries)):
                    progress(f"searched {number}/{len(queries)} queries")
    finally:
        if not keep:
            workspace_delete(owner)
    return EvaluationResult(
        metrics={m: metrics_from_ranks(ranks[m], k=k) for m in methods},
        passages=len(passages),
        chunks=chunks,
        embedding_model=embedding_model,
        index_seconds=index_seconds,
        search_seconds=seconds,
    )
