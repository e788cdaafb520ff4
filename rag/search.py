"""Hybrid search over the chunks a user may read.

Two rankings, each one SQL query with the ACL inside it
(``rag.permissions.readable_documents_filter``) and only ``ready`` documents:

- keyword: ``ts_rank(tsv, to_tsquery('simple', 'tok1 | tok2 …'), 1)`` over the
  kiwipiepy tokens of the query (``rag.tokens``), the same analysis as the chunks.
  Chunks are matched on the query's selective tokens only when matching on all of
  them would touch more than ``MATCH_BUDGET_ROWS`` chunks (``keyword_match``), and
  ranked on all of them;
- vector: cosine distance between ``embedding::vector(384)`` and the query's
  embedding (through the gateway), served by the partial HNSW index, with
  ``hnsw.iterative_scan = relaxed_order`` so the ACL filter does not starve it.

With pooled connections (``rankings_in_parallel``) the query embedding and the
keyword ranking run on worker threads: the model's round trip overlaps the ACL and
the keyword ranking, which overlaps the vector one.
The two top-N lists are fused by reciprocal rank fusion:
``score = Σ weight / (rrf_k + rank)``. An optional ``rerank`` callable may then
reorder the fused candidates before the top ``k`` are returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from django.apps import apps
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Cast
from pgvector.django import CosineDistance, VectorField

from providers import gateway
from providers.keys import Caller, caller_for_user
from providers.types import EmbeddingRequest
from rag.models import EMBEDDING_DIM, Chunk, Document
from rag.permissions import readable_documents_filter
from rag.services import embedding_model_name
from rag.term_stats import TermStats, term_stats
from rag.tokens import token_list

if TYPE_CHECKING:
    from orgs.models import User

T = TypeVar("T")
MIN_CANDIDATES: Final = 50
# Ranked rows carry text and citation fields; the vector (1.5 KB, parsed per row) and
# the token columns stay in the database.
UNRANKED_FIELDS: Final = ("embedding", "search_tokens", "tsv")
# About the number of chunks one keyword ranking may score; each costs a heap fetch
# and a ts_rank (at 100,000 chunks "있" alone is in 39 % of them).
MATCH_BUDGET_ROWS: Final = 2000
# A token in more than this fraction of the chunks is a stop word for matching.
STOP_FREQUENCY: Final = 0.1


@dataclass(frozen=True)
class SearchResult:
    document_id: int
    title: str
    text: str
    score: float
    page: int | None
    heading_path: str
    chunk_id: int = 0


Reranker = Callable[[str, list[SearchResult]], Sequence[SearchResult]]


def readable_chunks(user: User) -> QuerySet[Chunk]:
    """Chunks of ready documents that ``user`` may read, the ACL in the WHERE clause.

    The ACL is a subquery on documents rather than a join: PostgreSQL then checks each
    vector-index candidate against the set of readable documents instead of joining
    every candidate to the document table (at 100,000 chunks, vector search p95 went
    from 175 ms to 70 ms; bench/rag_search.py)."""
    readable = Document.objects.filter(
        readable_documents_filter(user), status=Document.Status.READY
    ).values("id")
    return Chunk.objects.filter(document_id__in=readable)


def keyword_query(tokens: Sequence[str]) -> SearchQuery:
    """``to_tsquery('simple', 'a | b | …')``; tokens are word characters only."""
    return SearchQuery(" | ".join(dict.fromkeys(tokens)), search_type="raw", config="simple")


@dataclass(frozen=True)
class KeywordMatch:
    tokens: tuple[str, ...]
    every: bool = False  # a chunk must contain all of them (else any)

    @property
    def text(self) -> str:
        """The ``to_tsquery`` text: ``a | b`` or ``a & b``."""
        return (" & " if self.every else " | ").join(self.tokens)

    def query(self) -> SearchQuery:
        return SearchQuery(self.text, search_type="raw", config="simple")


def keyword_match(
    tokens: Sequence[str], stats: TermStats, *, budget: float | None = None
) -> KeywordMatch:
    """Which of the query's ``tokens`` a chunk must contain to be ranked.

    All of them (any one suffices) while the estimated number of matching chunks stays
    within ``budget``; else the rarest ones that fit in it, at least one, leaving out
    the common ones — they still count in the ranking. When every token is a stop
    word (in more than ``STOP_FREQUENCY`` of the chunks), a chunk must contain all."""
    budget = MATCH_BUDGET_ROWS if budget is None else budget
    unique = list(dict.fromkeys(tokens))
    estimates = {token: stats.estimate(token) for token in unique}
    if sum(estimates.values()) <= budget:
        return KeywordMatch(tuple(unique))
    stop = STOP_FREQUENCY * stats.rows
    if len(unique) > 1 and all(estimate > stop for estimate in estimates.values()):
        return KeywordMatch(tuple(unique), every=True)
    chosen: list[str] = []
    total = 0.0
    for token in sorted(unique, key=lambda t: (estimates[t], unique.index(t))):
        if chosen and total + estimates[token] > budget:
            break
        chosen.append(token)
        total += estimates[token]
    return KeywordMatch(tuple(chosen))


def keyword_ranking(user: User, query: str, *, limit: int) -> list[Chunk]:
    return keyword_ranking_for_tokens(user, token_list(query), limit=limit)


def keyword_ranking_for_tokens(
    user: User, tokens: Sequence[str], *, limit: int, chunks: QuerySet[Chunk] | None = None
) -> list[Chunk]:
    """``chunks``: ``readable_chunks(user)`` when the caller has it already."""
    if not tokens:
        return []
    match = keyword_match(tokens, term_stats())
    return list(
        (readable_chunks(user) if chunks is None else chunks)
        .filter(tsv=match.query())
        .annotate(rank=SearchRank(F("tsv"), keyword_query(tokens), normalization=1))
        .defer(*UNRANKED_FIELDS)
        .select_related("document")
        .order_by("-rank", "id")[:limit]
    )


def vector_queryset(
    user: User,
    vector: Sequence[float],
    *,
    model: str,
    limit: int,
    chunks: QuerySet[Chunk] | None = None,
) -> QuerySet[Chunk]:
    """Nearest chunks by cosine distance, through the HNSW index when ``len(vector)``
    is the indexed dimension (the cast and the ``embedding_dim`` condition match it)."""
    dim = len(vector)
    distance = CosineDistance(Cast("embedding", VectorField(dimensions=dim)), list(vector))
    return (
        (readable_chunks(user) if chunks is None else chunks)
        .filter(embedding_dim=dim, embedding_model=model)
        .annotate(distance=distance)
        .defer(*UNRANKED_FIELDS)
        .select_related("document")
        .order_by("distance")[:limit]
    )


def vector_ranking(
    user: User,
    vector: Sequence[float],
    *,
    model: str,
    limit: int,
    chunks: QuerySet[Chunk] | None = None,
) -> list[Chunk]:
    dim = len(vector)
    queryset = vector_queryset(user, vector, model=model, limit=limit, chunks=chunks)
    with transaction.atomic():
        if dim == EMBEDDING_DIM:
            with connection.cursor() as cursor:
                # pgvector ≥ 0.8: keep scanning the graph until enough rows pass the
                # ACL filter, instead of returning fewer than ``limit``.
                cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        rows = list(queryset)
    # relaxed_order may return slightly out of order; restore it.
    rows.sort(key=lambda c: (float(vars(c)["distance"]), c.pk))
    return rows


def query_embedding(
    user: User, query: str, *, model: str, caller: Caller | None = None
) -> list[float]:
    response = gateway.embed(
        EmbeddingRequest(model=model, inputs=[query], dimensions=EMBEDDING_DIM, input_type="query"),
        caller or caller_for_user(user, source="rag"),
    )
    return list(response.vectors[0])


def reciprocal_rank_fusion(
    rankings: Sequence[tuple[Sequence[int], float]], *, rrf_k: int = 60
) -> dict[int, float]:
    """``{id: Σ weight / (rrf_k + rank)}`` over ``(ids best first, weight)`` lists."""
    scores: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, item in enumerate(ids, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (rrf_k + rank)
    return scores


def rankings_in_parallel() -> bool:
    """Whether the keyword ranking may run on another thread beside the query embedding
    and the vector ranking: only with pooled connections (a thread's own connection
    costs nothing then) and outside a transaction (another connection would not see
    its rows)."""
    return bool(connection.settings_dict["OPTIONS"].get("pool")) and not (
        connection.in_atomic_block
    )


def search_threads() -> ThreadPoolExecutor:
    executor: ThreadPoolExecutor = apps.get_app_config("rag").search_threads  # type: ignore[attr-defined]
    return executor


def _on_own_connection(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn`` on a search thread, whose connection goes back to the pool after."""
    try:
        return fn(*args, **kwargs)
    finally:
        connection.close()


def hybrid_search(
    user: User,
    query: str,
    *,
    k: int = 8,
    keyword_weight: float | None = None,
    vector_weight: float | None = None,
    rrf_k: int | None = None,
    candidates: int | None = None,
    rerank: Reranker | None = None,
    caller: Caller | None = None,
    query_vector: Sequence[float] | None = None,
) -> list[SearchResult]:
    """The ``k`` best chunks for ``query`` among those ``user`` may read. Fusion
    weights and ``rrf_k`` default to ``settings.RAG_KEYWORD_WEIGHT``,
    ``RAG_VECTOR_WEIGHT`` and ``RAG_RRF_K``; a weight of 0 skips that ranking. A
    caller that has the query's embedding already (by the configured model) passes
    it as ``query_vector``."""
    if keyword_weight is None:
        keyword_weight = float(settings.RAG_KEYWORD_WEIGHT)
    if vector_weight is None:
        vector_weight = float(settings.RAG_VECTOR_WEIGHT)
    if rrf_k is None:
        rrf_k = int(settings.RAG_RRF_K)
    query = query.strip()
    if not query or k <= 0:
        return []
    limit = candidates or max(MIN_CANDIDATES, 4 * k)
    chunks: dict[int, Chunk] = {}
    rankings: list[tuple[list[int], float]] = []
    parallel = rankings_in_parallel()
    model = embedding_model_name() if vector_weight > 0 else ""
    embedding: Future[list[float]] | None = None
    if vector_weight > 0 and query_vector is None and parallel:
        # The model's round trip overlaps the ACL, the tokens and the keyword ranking.
        embedding = search_threads().submit(
            _on_own_connection, query_embedding, user, query, model=model, caller=caller
        )
    by_keyword: list[Chunk] | Future[list[Chunk]] = []
    readable = readable_chunks(user)  # the ACL worked out once for both rankings
    if keyword_weight > 0:
        tokens = token_list(query)  # here: the analyser is not shared between threads
        if vector_weight > 0 and parallel:
            by_keyword = search_threads().submit(
                _on_own_connection,
                keyword_ranking_for_tokens,
                user,
                tokens,
                limit=limit,
                chunks=readable,
            )
        else:
            by_keyword = keyword_ranking_for_tokens(user, tokens, limit=limit, chunks=readable)
    if vector_weight > 0:
        if query_vector is not None:
            vector: Sequence[float] = query_vector
        elif embedding is not None:
            vector = embedding.result(timeout=float(settings.PROVIDER_REQUEST_TIMEOUT) + 30)
        else:
            vector = query_embedding(user, query, model=model, caller=caller)
        found = vector_ranking(user, vector, model=model, limit=limit, chunks=readable)
        chunks.update((c.pk, c) for c in found)
        rankings.append(([c.pk for c in found], vector_weight))
    if keyword_weight > 0:
        found = by_keyword if isinstance(by_keyword, list) else by_keyword.result(timeout=60)
        chunks.update((c.pk, c) for c in found)
        rankings.insert(0, ([c.pk for c in found], keyword_weight))
    scores = reciprocal_rank_fusion(rankings, rrf_k=rrf_k)
    ordered = sorted(scores, key=lambda pk: (-scores[pk], pk))
    results = [
        SearchResult(
            document_id=chunks[pk].document_id,
            title=chunks[pk].document.title,
            text=chunks[pk].text,
            score=scores[pk],
            page=chunks[pk].page,
            heading_path=chunks[pk].heading_path,
            chunk_id=pk,
        )
        for pk in ordered
    ]
    if rerank is not None:
        results = list(rerank(query, results))
    return results[:k]
