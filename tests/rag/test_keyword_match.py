"""Keyword search matches on a query's selective tokens when its common ones would
make it score a large share of the chunks (``rag.search.keyword_match``)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rag import search
from rag.models import Chunk
from rag.search import KeywordMatch, keyword_match, keyword_ranking
from rag.term_stats import EMPTY, TermStats, term_stats_read
from tests.personas import Personas
from tests.rag.factories import embedding_deployment, make_document, media_root

__all__ = ["embedding_deployment", "media_root"]

STATS = TermStats(
    rows=100_000,
    frequencies={"있": 0.39, "것": 0.37, "하": 0.32, "장관": 0.03, "연차": 0.004},
    floor=0.001,
)


def test_a_query_within_the_budget_matches_on_every_token() -> None:
    # 400 + 100 + 3,000 estimated rows with a budget of 5,000
    assert keyword_match(["연차", "휴가", "장관"], STATS, budget=5000) == KeywordMatch(
        ("연차", "휴가", "장관")
    )
    # no statistics yet (never analysed): every token, as before any estimate
    assert keyword_match(["있", "것"], EMPTY) == KeywordMatch(("있", "것"))


def test_common_tokens_are_left_out_of_the_match_rarest_first() -> None:
    assert keyword_match(["장관", "있", "연차", "휴가"], STATS, budget=2000) == KeywordMatch(
        ("휴가", "연차")
    )
    # the rarest token is kept even when it alone is over the budget
    assert keyword_match(["장관", "하"], STATS, budget=1000) == KeywordMatch(("장관",))
    # duplicates count once
    assert keyword_match(["연차", "연차"], STATS, budget=10) == KeywordMatch(("연차",))


def test_a_query_of_stop_words_only_needs_all_of_them() -> None:
    assert keyword_match(["있", "것", "하"], STATS, budget=2000) == KeywordMatch(
        ("있", "것", "하"), every=True
    )
    # a single stop word is matched alone
    assert keyword_match(["있"], STATS, budget=2000) == KeywordMatch(("있",))


def test_match_queries_in_tsquery_syntax() -> None:
    assert KeywordMatch(("a", "b")).text == "a | b"
    assert KeywordMatch(("a", "b"), every=True).text == "a & b"


@pytest.mark.django_db
@pytest.mark.usefixtures("media_root", "embedding_deployment")
def test_statistics_drive_the_match_and_common_tokens_still_rank(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = [f"회의 자료 {i}번은 공유 폴더에 있습니다." for i in range(60)]
    both = "인사평가 결과는 공유 폴더에 있습니다."
    rare_only = "인사평가 일정은 다음 달에 공지합니다."
    make_document(personas.member, [*common, rare_only, both], title="공지")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rag_chunk")
    stats = term_stats_read()
    assert stats.rows >= 62
    assert stats.estimate("폴더") > 0.9 * 61  # in every chunk but one
    assert stats.estimate("인사") < 5

    monkeypatch.setattr(search, "MATCH_BUDGET_ROWS", 10)
    with CaptureQueriesContext(connection) as captured:
        found = keyword_ranking(personas.member, "인사평가 공유 폴더", limit=10)
    # only the chunks with the rare token were scored; the common ones ordered them
    texts = dict(Chunk.objects.values_list("id", "text"))
    assert [texts[c.id] for c in found] == [both, rare_only]
    sql = next(q["sql"] for q in captured.captured_queries if "@@" in q["sql"])
    assert "'인사 | 평가'" in sql and "'인사 | 평가 | 공유 | 폴더'" in sql

    # with room in the budget, every token matches again (the common-only chunks too)
    monkeypatch.setattr(search, "MATCH_BUDGET_ROWS", 10_000)
    assert len(keyword_ranking(personas.member, "인사평가 공유 폴더", limit=100)) == 62


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("media_root", "embedding_deployment")
def test_embedding_and_keyword_ranking_run_beside_the_vector_one_with_pooled_connections(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_document(personas.member, ["연차휴가는 15일입니다.", "급여는 25일에 지급됩니다."])
    alone = [r.chunk_id for r in search.hybrid_search(personas.member, "연차휴가")]
    ran_on: list[str] = []
    ranking = search.keyword_ranking_for_tokens

    def recording(*args: object, **kwargs: object) -> object:
        ran_on.append(threading.current_thread().name)
        return ranking(*args, **kwargs)  # type: ignore[arg-type]

    embedded_on: list[str] = []
    embedding = search.query_embedding

    def recording_embedding(*args: object, **kwargs: object) -> object:
        embedded_on.append(threading.current_thread().name)
        return embedding(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "keyword_ranking_for_tokens", recording)
    monkeypatch.setattr(search, "query_embedding", recording_embedding)
    monkeypatch.setattr(search, "rankings_in_parallel", lambda: True)
    assert [r.chunk_id for r in search.hybrid_search(personas.member, "연차휴가")] == alone
    assert len(ran_on) == 1 and ran_on[0].startswith("rag-search")
    assert len(embedded_on) == 1 and embedded_on[0].startswith("rag-search")
    # the ACL holds on the worker's own connection too
    assert search.hybrid_search(personas.outsider, "연차휴가") == []


def test_rankings_run_in_turn_without_a_pool_or_inside_a_transaction() -> None:
    # the test settings have no pool
    assert search.rankings_in_parallel() is False
