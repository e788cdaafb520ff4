"""Hybrid search: Korean keywords, vectors, fusion, and the ACL inside the SQL."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from providers.models import Deployment
from rag.models import EMBEDDING_DIM, Document
from rag.search import (
    SearchResult,
    hybrid_search,
    readable_documents_sql,
    reciprocal_rank_fusion,
    vector_ranking_query,
)
from rag.tokens import search_tokens
from tests.fake_upstream.server import fake_embedding
from tests.personas import Personas
from tests.rag.factories import EMBEDDING_MODEL, embedding_deployment, make_document, media_root

__all__ = ["embedding_deployment", "media_root"]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("media_root", "embedding_deployment"),
]

LEAVE = "연차휴가는 입사 1년 후 15일이 부여되며, 사용하지 않은 연차는 수당으로 지급됩니다."
PAYROLL = "급여는 매월 25일에 지급되며 원천징수 내역은 사내 포털에서 확인합니다."
SECURITY = "보안 사고가 발생하면 즉시 정보보호팀에 신고해야 합니다."


def test_search_tokens_keep_content_morphemes() -> None:
    assert search_tokens("연차휴가는 15일이 부여됩니다") == "연차 휴가 15 일 부여"
    assert search_tokens("Python 코드를 먹었다") == "python 코드 먹"
    assert search_tokens("   ") == ""


def test_korean_keyword_finds_the_right_chunk(personas: Personas) -> None:
    make_document(personas.member, [PAYROLL, LEAVE, SECURITY], title="취업규칙", pages=[1, 2, 3])
    results = hybrid_search(personas.member, "연차", vector_weight=0)
    assert [r.text for r in results] == [LEAVE]
    assert results[0].page == 2 and results[0].title == "취업규칙"
    # an inflected query finds the same chunk
    assert (
        hybrid_search(personas.member, "연차휴가를 언제 받나요?", vector_weight=0)[0].text == LEAVE
    )


def test_search_returns_only_readable_chunks(personas: Personas) -> None:
    # the HR document is the exact match, but private to its owner
    make_document(personas.outsider, [LEAVE], title="HR 비공개")
    make_document(personas.member, [PAYROLL], title="공개", acl={"org_wide": True})
    for user in (personas.member, personas.dept_admin, personas.platform_admin):
        results = hybrid_search(user, LEAVE)
        assert [r.title for r in results] == ["공개"]
    assert hybrid_search(personas.outsider, LEAVE)[0].title == "HR 비공개"


def test_only_ready_documents_are_searched(personas: Personas) -> None:
    make_document(personas.member, [LEAVE], status=Document.Status.PROCESSING)
    make_document(personas.member, [LEAVE], status=Document.Status.FAILED)
    assert hybrid_search(personas.member, LEAVE) == []


def test_acl_predicate_is_inside_both_queries(personas: Personas) -> None:
    make_document(personas.member, [LEAVE], acl={"departments": ["ENG"]})
    with CaptureQueriesContext(connection) as captured:
        assert hybrid_search(personas.dept_admin, "연차")
    searches = [q["sql"] for q in captured.captured_queries if "FROM rag_chunk c" in q["sql"]]
    keyword = [sql for sql in searches if "@@" in sql]
    vector = [sql for sql in searches if "<=>" in sql]
    assert len(keyword) == 1 and len(vector) == 1 and len(searches) == 2
    for sql in keyword + vector:
        # the readable documents are a subquery of the ranking query itself
        assert "WHERE c.document_id IN (SELECT" in sql
        assert '"owner_id" =' in sql
        assert "rag_documentgrant" in sql
        assert '"status" =' in sql
    assert "ts_rank" in keyword[0] and "to_tsquery" in keyword[0]


def test_every_session_scans_hnsw_iteratively(personas: Personas) -> None:
    # (a vector search, so that pgvector's own setting is loaded, not a placeholder)
    hybrid_search(personas.member, "연차", keyword_weight=0)
    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.iterative_scan")
        assert cursor.fetchone() == ("relaxed_order",)


def test_vector_query_uses_the_partial_hnsw_index(personas: Personas) -> None:
    make_document(personas.member, [LEAVE, PAYROLL])
    query = vector_ranking_query(
        readable_documents_sql(personas.member),
        fake_embedding("질문", EMBEDDING_DIM),
        model=EMBEDDING_MODEL,
        limit=5,
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + query.as_sql(), query.params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "rag_chunk_embedding_384" in plan


def test_hybrid_fusion_order(personas: Personas) -> None:
    query = "연차 휴가 신청 절차"
    make_document(
        personas.member,
        [
            "연차 연차 연차 휴가 휴가 신청",  # keyword best, vector poor
            query,  # keyword good and vector exact
            SECURITY,  # neither
        ],
    )
    results = hybrid_search(personas.member, query)
    assert [r.text for r in results][:2] == [query, "연차 연차 연차 휴가 휴가 신청"]
    assert results[0].score > results[1].score > results[2].score
    # vector only: the exact text first
    assert hybrid_search(personas.member, query, keyword_weight=0)[0].text == query
    # keyword only: the non-matching chunk is absent
    assert SECURITY not in [r.text for r in hybrid_search(personas.member, query, vector_weight=0)]


def test_reciprocal_rank_fusion_arithmetic() -> None:
    scores = reciprocal_rank_fusion([([1, 2, 3], 1.0), ([3, 1], 2.0)], rrf_k=60)
    assert scores[1] == pytest.approx(1 / 61 + 2 / 62)
    assert scores[3] == pytest.approx(1 / 63 + 2 / 61)
    assert scores[2] == pytest.approx(1 / 62)


def test_rerank_hook_and_k(personas: Personas) -> None:
    make_document(personas.member, [LEAVE, PAYROLL, SECURITY])
    seen: list[int] = []

    def reverse(query: str, results: list[SearchResult]) -> list[SearchResult]:
        seen.append(len(results))
        return list(reversed(results))

    plain = hybrid_search(personas.member, "연차 급여", k=3)
    reranked = hybrid_search(personas.member, "연차 급여", k=3, rerank=reverse)
    assert seen == [3]
    assert reranked == list(reversed(plain))
    assert len(hybrid_search(personas.member, "연차 급여", k=1)) == 1
    assert hybrid_search(personas.member, "   ") == []


def test_deployment_is_used_for_query_embedding(
    personas: Personas, embedding_deployment: Deployment
) -> None:
    make_document(personas.member, [LEAVE])
    assert hybrid_search(personas.member, LEAVE, keyword_weight=0)[0].text == LEAVE


def test_a_move_to_another_department_counts_from_the_next_search(personas: Personas) -> None:
    from orgs.services import membership_set_primary, user_deactivate

    make_document(
        personas.dept_admin,
        [LEAVE],
        title="개발본부 전체",
        acl={"departments": ["ENG"], "include_subdepartments": True},
    )
    make_document(
        personas.dept_admin, [PAYROLL], title="플랫폼팀", acl={"departments": ["ENG-PLAT"]}
    )
    # ENG-PLAT sits under ENG: the member reads both, as a sub-department and directly
    assert {r.title for r in hybrid_search(personas.member, "연차 급여")} == {
        "개발본부 전체",
        "플랫폼팀",
    }
    membership_set_primary(user=personas.member, department=personas.fin)
    assert hybrid_search(personas.member, "연차 급여") == []
    membership_set_primary(user=personas.member, department=personas.eng)
    assert [r.title for r in hybrid_search(personas.member, "연차 급여")] == ["개발본부 전체"]
    user_deactivate(user=personas.member, reason="퇴사")
    personas.member.refresh_from_db()
    assert hybrid_search(personas.member, "연차 급여") == []
