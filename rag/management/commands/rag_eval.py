"""python manage.py rag_eval PASSAGES QUERIES — retrieval quality of keyword, vector
and hybrid search (issue 6). See ``rag.evaluation``."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from rag.evaluation import (
    EvaluationError,
    EvaluationResult,
    embedding_available,
    evaluation_run,
    passages_load,
    queries_load,
)


def result_table(result: EvaluationResult) -> str:
    k = next(iter(result.metrics.values())).k
    header = f"{'method':<8} {'R@1':>6} {'R@5':>6} {f'R@{k}':>6} {f'MRR@{k}':>7} {'ms/query':>9}"
    lines = [header, "-" * len(header)]
    for method, m in result.metrics.items():
        per_query = 1000 * result.search_seconds[method] / max(m.queries, 1)
        lines.append(
            f"{method:<8} {m.recall_at_1:6.3f} {m.recall_at_5:6.3f} {m.recall_at_k:6.3f}"
            f" {m.mrr_at_k:7.3f} {per_query:9.1f}"
        )
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Index PASSAGES (JSONL {id,title,text}) in a temporary organization and report "
        "R@1, R@5, R@k and MRR@k of keyword, vector and hybrid search over QUERIES "
        "(JSONL {id,query,gold_passage_id})."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("passages", type=Path)
        parser.add_argument("queries", type=Path)
        parser.add_argument(
            "--embedding-model",
            default=None,
            help="model group for embeddings (default: settings.RAG_EMBEDDING_MODEL); "
            "when it does not answer, only keyword search is evaluated",
        )
        parser.add_argument("--k", type=int, default=10, help="cut-off for R@k and MRR@k")
        parser.add_argument(
            "--limit", type=int, default=0, help="evaluate only the first N queries (0: all)"
        )
        parser.add_argument(
            "--keep", action="store_true", help="keep the temporary organization and documents"
        )
        parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
        parser.add_argument(
            "--keyword-weight",
            type=float,
            default=None,
            help="hybrid fusion weight of the keyword ranking (default: RAG_KEYWORD_WEIGHT)",
        )
        parser.add_argument(
            "--vector-weight",
            type=float,
            default=None,
            help="hybrid fusion weight of the vector ranking (default: RAG_VECTOR_WEIGHT)",
        )
        parser.add_argument(
            "--rrf-k", type=int, default=None, help="fusion constant (default: RAG_RRF_K)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        k: int = options["k"]
        if k < 1:
            raise CommandError("--k must be at least 1.")
        try:
            passages = passages_load(options["passages"])
            queries = queries_load(options["queries"])
        except EvaluationError as error:
            raise CommandError(str(error)) from None
        if options["limit"] > 0:
            queries = queries[: options["limit"]]
        model: str = options["embedding_model"] or str(settings.RAG_EMBEDDING_MODEL)
        problem = embedding_available(model)
        if problem is not None:
            self.stderr.write(
                f"Embedding model {model!r} is not available ({problem}): "
                "evaluating keyword search only."
            )
        self.stdout.write(
            f"{len(passages)} passages, {len(queries)} queries, "
            f"embeddings: {model if problem is None else 'none'}"
        )
        fusion = {
            name: options[option]
            for name, option in (
                ("RAG_KEYWORD_WEIGHT", "keyword_weight"),
                ("RAG_VECTOR_WEIGHT", "vector_weight"),
                ("RAG_RRF_K", "rrf_k"),
            )
            if options[option] is not None
        }
        if any(value < 0 for value in fusion.values()) or fusion.get("RAG_RRF_K", 1) < 1:
            raise CommandError("Weights must be at least 0 and --rrf-k at least 1.")
        self.stdout.write(
            "Fusion of the rankings: keyword weight {RAG_KEYWORD_WEIGHT}, vector weight "
            "{RAG_VECTOR_WEIGHT}, k {RAG_RRF_K}".format(
                **{
                    name: fusion.get(name, getattr(settings, name))
                    for name in ("RAG_KEYWORD_WEIGHT", "RAG_VECTOR_WEIGHT", "RAG_RRF_K")
                }
            )
        )
        started = time.monotonic()
        try:
            with override_settings(**fusion):
                result = evaluation_run(
                    passages=passages,
                    queries=queries,
                    embedding_model=model if problem is None else None,
                    k=k,
                    keep=options["keep"],
                    progress=lambda message: self.stdout.write(
                        f"[{time.monotonic() - started:7.1f}s] {message}"
                    ),
                )
        except EvaluationError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{result.chunks} chunks indexed in {result.index_seconds:.1f} s; "
            f"total {time.monotonic() - started:.1f} s"
        )
        self.stdout.write(result_table(result))
        if options["json"] is not None:
            path: Path = options["json"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(asdict(result), indent=2), encoding="utf-8")
            self.stdout.write(f"Figures written to {path}")
