"""``manage.py rag_eval`` and its metric functions (rag.evaluation)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from orgs.models import Organization, User
from rag.evaluation import (
    WORKSPACE_SLUG_PREFIX,
    EvaluationError,
    document_ranking,
    gold_rank,
    metrics_from_ranks,
    passages_load,
)
from rag.models import Chunk, Document
from tests.personas import Personas
from tests.rag.factories import EMBEDDING_MODEL, embedding_deployment, make_document, media_root

__all__ = ["embedding_deployment", "media_root"]

PASSAGES = [
    ("p1", "연차휴가", "연차휴가는 입사 1년 후 15일이 주어지며 인사팀에 신청한다."),
    ("p2", "출장비", "국내 출장비는 교통비와 숙박비를 실비로 정산하고 영수증을 첨부한다."),
    ("p3", "보안", "사내 노트북은 퇴근할 때 잠금장치로 책상에 고정해야 한다."),
    ("p4", "복지", "사내 식당은 점심에 한식과 양식 메뉴를 제공하며 식권을 사용한다."),
]
QUERIES = [
    ("q1", "연차휴가 며칠 주어지나요?", "p1"),
    ("q2", "출장 숙박비 정산 방법은?", "p2"),
    ("q3", "노트북 잠금장치", "p3"),
    ("q4", "식당 점심 메뉴", "p4"),
]


def write_set(folder: Path, queries: list[tuple[str, str, str]] = QUERIES) -> tuple[Path, Path]:
    passages = folder / "passages.jsonl"
    passages.write_text(
        "\n".join(
            json.dumps({"id": i, "title": t, "text": x}, ensure_ascii=False) for i, t, x in PASSAGES
        ),
        encoding="utf-8",
    )
    path = folder / "queries.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(
                {"id": i, "query": q, "gold_passage_id": g, "answer": ""}, ensure_ascii=False
            )
            for i, q, g in queries
        ),
        encoding="utf-8",
    )
    return passages, path


def table_row(output: str, method: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.startswith(method + " "))


def test_metrics_from_ranks() -> None:
    # given five queries: gold at ranks 1, 3, missing, 7 and 12
    ranks = [1, 3, None, 7, 12]

    # when
    m = metrics_from_ranks(ranks, k=10)

    # then rank 12 is beyond the cut-off and counts as a miss everywhere
    assert (m.queries, m.k) == (5, 10)
    assert m.recall_at_1 == pytest.approx(0.2)
    assert m.recall_at_5 == pytest.approx(0.4)
    assert m.recall_at_k == pytest.approx(0.6)
    assert m.mrr_at_k == pytest.approx((1 + 1 / 3 + 1 / 7) / 5)


def test_metrics_edge_cases() -> None:
    assert metrics_from_ranks([], k=10).recall_at_k == 0.0
    assert metrics_from_ranks([2], k=1).mrr_at_k == 0.0
    with pytest.raises(ValueError, match="k must be"):
        metrics_from_ranks([1], k=0)


def test_chunk_hits_become_document_ranking() -> None:
    # given chunk hits as their document ids, documents 7 and 3 split into several chunks
    hits = [7, 7, 3, 9, 3, 7]

    # when
    ranking = document_ranking(hits)

    # then
    assert ranking == [7, 3, 9]
    assert gold_rank(ranking, 9) == 3
    assert gold_rank(ranking, 4) is None


def test_bad_jsonl_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "passages.jsonl"
    path.write_text('{"id": "a", "title": "t", "text": "x"}\n{oops\n', encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"passages.jsonl:2: not JSON"):
        passages_load(path)
    path.write_text('{"id": "a", "title": "t"}\n', encoding="utf-8")
    with pytest.raises(EvaluationError, match="needs string fields id, title, text"):
        passages_load(path)


@pytest.mark.django_db
@pytest.mark.usefixtures("media_root")
def test_keyword_only_when_model_missing(tmp_path: Path, personas: Personas) -> None:
    # given a small Korean set, no embedding deployment, and an org-wide document of
    # another organization that matches every query (the eval owner may not read it)
    make_document(
        personas.member,
        [" ".join(q for _, q, _ in QUERIES)],
        title="남의 문서",
        acl={"org_wide": True},
    )
    passages, queries = write_set(tmp_path)
    out, err = StringIO(), StringIO()
    documents_before = Document.objects.count()

    # when
    with override_settings(RAG_EMBEDDING_MODEL="no-such-model"):
        call_command("rag_eval", str(passages), str(queries), stdout=out, stderr=err)

    # then only keyword search is scored, each query finds its passage first
    assert "evaluating keyword search only" in err.getvalue()
    output = out.getvalue()
    assert "4 passages, 4 queries, embeddings: none" in output
    assert table_row(output, "keyword")[1:5] == ["1.000", "1.000", "1.000", "1.000"]
    assert not any(line.startswith(("vector ", "hybrid ")) for line in output.splitlines())
    # and the temporary organization is gone with everything it held
    assert not Organization.objects.filter(slug__startswith=WORKSPACE_SLUG_PREFIX).exists()
    assert not User.objects.filter(email__endswith="@rag-eval.invalid").exists()
    assert Document.objects.count() == documents_before
    assert Chunk.objects.filter(document__title__in=[t for _, t, _ in PASSAGES]).count() == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("media_root", "embedding_deployment")
def test_all_methods_with_embedding_model(tmp_path: Path) -> None:
    # given queries that repeat a passage word for word (the fake upstream's vectors
    # are equal only for equal texts), and one that matches no passage
    queries = [(f"q{i}", text, pid) for i, (pid, _, text) in enumerate(PASSAGES)]
    queries.append(("q-miss", "전혀 관계없는 질문 xyz", "p1"))
    passages, queries_path = write_set(tmp_path, queries)
    out = StringIO()
    figures = tmp_path / "out" / "figures.json"

    # when
    call_command(
        "rag_eval",
        str(passages),
        str(queries_path),
        "--embedding-model",
        EMBEDDING_MODEL,
        "--k",
        "3",
        "--keep",
        "--json",
        str(figures),
        stdout=out,
    )

    # then three methods are scored with the cut-off asked for
    output = out.getvalue()
    assert "R@3" in output and "MRR@3" in output
    # the four word-for-word queries find their passage first by keyword and by vector
    # (the fifth may hit its gold passage by chance through the vector ranking)
    assert table_row(output, "keyword")[1:4] == ["0.800", "0.800", "0.800"]
    assert float(table_row(output, "vector")[1]) >= 0.8
    assert float(table_row(output, "hybrid")[1]) >= 0.8
    saved = json.loads(figures.read_text(encoding="utf-8"))
    assert saved["embedding_model"] == EMBEDDING_MODEL
    assert saved["metrics"]["keyword"]["recall_at_1"] == pytest.approx(0.8)
    assert saved["metrics"]["vector"]["queries"] == len(queries)
    # and --keep leaves the indexed workspace, with embeddings from the model
    owner = User.objects.get(email__endswith="@rag-eval.invalid")
    chunks = Chunk.objects.filter(document__owner=owner)
    assert chunks.count() >= len(PASSAGES)
    assert set(chunks.values_list("embedding_model", flat=True)) == {EMBEDDING_MODEL}


def test_unknown_gold_passage_is_an_error(tmp_path: Path, db: None) -> None:
    passages, queries = write_set(tmp_path, [("q1", "연차휴가", "nope")])
    with pytest.raises(CommandError, match="gold passage that is not in the passages"):
        call_command("rag_eval", str(passages), str(queries), stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
@pytest.mark.usefixtures("media_root", "embedding_deployment")
def test_fusion_weights_for_the_run(tmp_path: Path) -> None:
    queries = [(f"q{i}", text, pid) for i, (pid, _, text) in enumerate(PASSAGES)]
    queries.append(("q-miss", "전혀 관계없는 질문 xyz", "p1"))
    passages, queries_path = write_set(tmp_path, queries)
    args = [str(passages), str(queries_path), "--embedding-model", EMBEDDING_MODEL, "--k", "3"]

    # a weight of 0 leaves that ranking out of the hybrid one
    out = StringIO()
    call_command("rag_eval", *args, "--vector-weight", "0", stdout=out)
    assert "keyword weight 2.0, vector weight 0.0, k 60" in out.getvalue()
    assert table_row(out.getvalue(), "hybrid")[1:5] == table_row(out.getvalue(), "keyword")[1:5]
    out = StringIO()
    call_command("rag_eval", *args, "--keyword-weight", "0", "--rrf-k", "5", stdout=out)
    assert "keyword weight 0.0, vector weight 1.0, k 5" in out.getvalue()
    assert table_row(out.getvalue(), "hybrid")[1:5] == table_row(out.getvalue(), "vector")[1:5]

    with pytest.raises(CommandError, match="at least 0"):
        call_command("rag_eval", *args, "--keyword-weight", "-1", stdout=StringIO())
