"""Hybrid search over the chunks a user may read.

Two rankings, each one SQL query with the ACL inside it and only ``ready``
documents. The ACL is written once, in ``rag.permissions.readable_documents_filter``;
``readable_documents_sql`` compiles it (with the ORM) into the subquery
``c.document_id IN (…)`` of both rankings:

- keyword: ``ts_rank(tsv, to_tsquery('simple', 'tok1 | tok2 …'), 1)`` over the
  kiwipiepy tokens of the query (``rag.tokens``), the same analysis as the chunks.
  Chunks are matched on the query's selective tokens only when matching on all of
  them would touch more than ``MATCH_BUDGET_ROWS`` chunks (``keyword_match``), and
  ranked on all of them;
- vector: cosine distance between ``embedding::vector(384)`` and the query's
  embedding (through the gateway), served by the partial HNSW index; every session
  has ``hnsw.iterative_scan = relaxed_order`` (``chatapp.settings``) so the ACL
  filter does not starve it.

The rankings are written in SQL: built by the ORM, the two queries and their rows
cost more Python time than PostgreSQL takes to run them (bench/rag_search.py). A
ranking's ids come first (ORDER BY … LIMIT); what a result shows (text, page,
heading, title) is joined to those rows only.

With pooled connections (``rankings_in_parallel``) the query embedding and the
keyword ranking run on worker threads: the model's round trip overlaps the ACL and
the keyword ranking, which overlaps the vector one.
The two top-N lists are fused by reciprocal rank fusion:
``score = Σ weight / (rrf_k + rank)``. An optional ``rerank`` callable may then
reorder the fused candidates before the top ``k`` are returned.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypeVar

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import Q

from orgs.models import User
from providers import gateway
from providers.keys import Caller, caller_for_user
from providers.types import EmbeddingRequest
from rag.models import EMBEDDING_DIM, Document
from rag.permissions import readable_documents_filter
from rag.services import embedding_model_name
from rag.term_stats import TermStats, term_stats
from rag.tokens import token_list

T = TypeVar("T")
MIN_CANDIDATES: Final = 50
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


class Ranked(NamedTuple):
    """A chunk in a ranking, with what a result shows of it."""

    id: int
    document_id: int
    text: str
    page: int | None
    heading_path: str
    title: str
    score: float  # the ranking's own: ts_rank, or cosine distance


class AclSql(NamedTuple):
    """``SELECT id FROM rag_document WHERE <readable by the user> AND <ready>``."""

    sql: str
    params: tuple[Any, ...]


def readable_documents_sql(
    user: User, attachments: Sequence[int] = (), *, library: bool = True
) -> AclSql:
    """The ready documents ``user`` may read, as a subquery (SQL and parameters)
    compiled from ``readable_documents_filter``: the company's documents (unless not
    ``library``), and of the files attached to conversations only ``attachments``.

    A subquery on documents rather than a join: PostgreSQL then checks each
    vector-index candidate against the set of readable documents instead of joining
    every candidate to the document table (at 100,000 chunks, vector search p95 went
    from 175 ms to 70 ms; bench/rag_search.py)."""
    if not user.is_authenticated or not user.is_active or user.pk is None:
        return NOTHING_READABLE
    if not library and not attachments:
        return NOTHING_READABLE
    files = tuple(sorted(set(attachments)))
    return _compiled_acl(user.pk, user.organization_id, files, library)


NOTHING_READABLE: Final = AclSql("SELECT NULL::bigint WHERE false", ())


@functools.lru_cache(maxsize=4096)
def _compiled_acl(
    user_id: int, organization_id: int | None, attachments: tuple[int, ...], library: bool
) -> AclSql:
    """Compiling the ACL costs about 5 ms of Python; its SQL depends on nothing but
    these ids (memberships, groups and grants are read by the query itself), so it is
    compiled once per reader (and set of attached files) and process."""
    reader = User(pk=user_id, organization_id=organization_id, is_active=True)
    in_scope = Q(scope=Document.Scope.LIBRARY) if library else Q(pk__in=[])
    if attachments:
        in_scope |= Q(pk__in=attachments)
    readable = (
        Document.objects.filter(
            readable_documents_filter(reader), in_scope, status=Document.Status.READY
        )
        .order_by()  # (an ORDER BY would keep PostgreSQL from flattening the subquery)
        .values("id")
    )
    sql, params = readable.query.sql_with_params()
    return AclSql(sql, tuple(params))


class RankingSql(NamedTuple):
    """``ranking``: ``SELECT id, score … ORDER BY … LIMIT``; ``order``: its order again,
    on the columns ``r.score`` and ``r.id``."""

    ranking: str
    order: str
    params: list[Any]

    def as_sql(self) -> str:
        return (
            # only this module's SQL goes in; values are parameters
            "SELECT c.id, c.document_id, c.text, c.page, c.heading_path, d.title, r.score "  # noqa: S608
            f"FROM ({self.ranking}) r "
            "JOIN rag_chunk c ON c.id = r.id "
            "JOIN rag_document d ON d.id = c.document_id "
            f"ORDER BY {self.order}"
        )


def ranked_rows(query: RankingSql) -> list[Ranked]:
    with connection.cursor() as cursor:
        cursor.execute(query.as_sql(), query.params)
        return [Ranked(*row) for row in cursor.fetchall()]


@dataclass(frozen=True)
class KeywordMatch:
    tokens: tuple[str, ...]
    every: bool = False  # a chunk must contain all of them (else any)

    @property
    def text(self) -> str:
        """The ``to_tsquery`` text: ``a | b`` or ``a & b``."""
        return (" & " if self.every else " | ").join(self.tokens)


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


def keyword_ranking_query(
    readable: AclSql, tokens: Sequence[str], match: KeywordMatch, *, limit: int
) -> RankingSql:
    """Chunks containing ``match``'s tokens, ranked on all of ``tokens`` with
    ``ts_rank(..., 1)``, best first (tokens are word characters only)."""
    ranking = (
        # the ACL as the ORM compiled it, with its placeholders; values are parameters
        "SELECT c.id, ts_rank(c.tsv, to_tsquery('simple', %s), 1) AS score "  # noqa: S608
        f"FROM rag_chunk c WHERE c.document_id IN ({readable.sql}) "
        "AND c.tsv @@ to_tsquery('simple', %s) "
        "ORDER BY score DESC, c.id LIMIT %s"
    )
    ranked_on = " | ".join(dict.fromkeys(tokens))
    return RankingSql(
        ranking, "r.score DESC, r.id", [ranked_on, *readable.params, match.text, limit]
    )


def keyword_ranking(user: User, query: str, *, limit: int) -> list[Ranked]:
    return keyword_ranking_for_tokens(user, token_list(query), limit=limit)


def keyword_ranking_for_tokens(
    user: User, tokens: Sequence[str], *, limit: int, readable: AclSql | None = None
) -> list[Ranked]:
    """``readable``: ``readable_documents_sql(user)`` when the caller has it already."""
    if not tokens:
        return []
    match = keyword_match(tokens, term_stats())
    acl = readable_documents_sql(user) if readable is None else readable
    return ranked_rows(keyword_ranking_query(acl, tokens, match, limit=limit))


def vector_ranking_query(
    readable: AclSql, vector: Sequence[float], *, model: str, limit: int
) -> RankingSql:
    """Nearest chunks by cosine distance, through the HNSW index when ``len(vector)``
    is the indexed dimension (the cast and the ``embedding_dim`` condition match it).
    The scan's relaxed order is put right by the outer ORDER BY."""
    dim = len(vector)
    ranking = (
        # an int, and the compiled ACL with its placeholders; values are parameters
        f"SELECT c.id, c.embedding::vector({dim:d}) <=> %s::vector({dim:d}) AS score "  # noqa: S608
        f"FROM rag_chunk c WHERE c.document_id IN ({readable.sql}) "
        "AND c.embedding_dim = %s AND c.embedding_model = %s "
        "ORDER BY score LIMIT %s"
    )
    literal = "[" + ",".join(repr(float(x)) for x in vector) + "]"
    return RankingSql(ranking, "r.score, r.id", [literal, *readable.params, dim, model, limit])


def vector_ranking(
    user: User,
    vector: Sequence[float],
    *,
    model: str,
    limit: int,
    readable: AclSql | None = None,
) -> list[Ranked]:
    acl = readable_documents_sql(user) if readable is None else readable
    return ranked_rows(vector_ranking_query(acl, vector, model=model, limit=limit))


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
    attachments: Sequence[int] = (),
    library: bool = True,
) -> list[SearchResult]:
    """The ``k`` best chunks for ``query`` among those ``user`` may read: company
    documents (unless not ``library``), and the conversation files ``attachments``
    (document ids). Fusion weights and ``rrf_k`` default to
    ``settings.RAG_KEYWORD_WEIGHT``, ``RAG_VECTOR_WEIGHT`` and ``RAG_RRF_K``; a weight
    of 0 skips that ranking. A caller that has the query's embedding already (by the
    configured model) passes it as ``query_vector``."""
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
    chunks: dict[int, Ranked] = {}
    rankings: list[tuple[list[int], float]] = []
    parallel = rankings_in_parallel()
    model = embedding_model_name() if vector_weight > 0 else ""
    embedding: Future[list[float]] | None = None
    if vector_weight > 0 and query_vector is None and parallel:
        # The model's round trip overlaps the ACL, the tokens and the keyword ranking.
        embedding = search_threads().submit(
            _on_own_connection, query_embedding, user, query, model=model, caller=caller
        )
    by_keyword: list[Ranked] | Future[list[Ranked]] = []
    readable = readable_documents_sql(user, attachments, library=library)  # for both
    if keyword_weight > 0:
        tokens = token_list(query)  # here: the analyser is not shared between threads
        if vector_weight > 0 and parallel:
            by_keyword = search_threads().submit(
                _on_own_connection,
                keyword_ranking_for_tokens,
                user,
                tokens,
                limit=limit,
                readable=readable,
            )
        else:
            by_keyword = keyword_ranking_for_tokens(user, tokens, limit=limit, readable=readable)
    if vector_weight > 0:
        if query_vector is not None:
            vector: Sequence[float] = query_vector
        elif embedding is not None:
            vector = embedding.result(timeout=float(settings.PROVIDER_REQUEST_TIMEOUT) + 30)
        else:
            vector = query_embedding(user, query, model=model, caller=caller)
        found = vector_ranking(user, vector, model=model, limit=limit, readable=readable)
        chunks.update((r.id, r) for r in found)
        rankings.append(([r.id for r in found], vector_weight))
    if keyword_weight > 0:
        found = by_keyword if isinstance(by_keyword, list) else by_keyword.result(timeout=60)
        chunks.update((r.id, r) for r in found)
        rankings.insert(0, ([r.id for r in found], keyword_weight))
    scores = reciprocal_rank_fusion(rankings, rrf_k=rrf_k)
    ordered = sorted(scores, key=lambda pk: (-scores[pk], pk))
    results = [
        SearchResult(
            document_id=chunks[pk].document_id,
            title=chunks[pk].title,
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
