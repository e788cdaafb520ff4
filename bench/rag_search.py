"""Document search and ingestion benchmark, run by hand (never by the test suite):

    .venv/bin/python -m bench.rag_search [--chunks 100000] [--documents 5000]
        [--queries 100] [--ingest-repeats 3] [--embedding-api-base URL]

Starts its own PostgreSQL + pgvector and Redis in a scratch folder under .data/ and
the fake model upstream (an OpenAI-compatible ``embedding`` deployment whose vectors
come from the text's SHA-256), then, in this process:

1. generates (``bench.rag_corpus``) an organization (departments with
   sub-departments, groups, users) and ``--chunks`` chunks over ``--documents``
   documents with mixed ACLs (org-wide, department with and without
   sub-departments, group, user grants, private).
   Chunk texts are real Korean sentences (the KorQuAD passages beside the checkout)
   recombined at random, tokenised once by kiwipiepy; vectors are random unit
   vectors. Rows go in with COPY, the GIN and HNSW indexes are rebuilt after;
2. measures, as several personas (the permission filter inside every query's SQL),
   the latency of: keyword and vector rankings (query vector given), ``hybrid_sql``
   (both rankings and the fusion, query vector given), ``embed`` (the query
   embedding through the gateway) and ``hybrid`` (``rag.search.hybrid_search`` end
   to end);
3. measures ingestion throughput (``rag.services.document_ingest``: parse, OCR,
   chunk, embed, store) on the shared samples: the text PDF (no OCR) and the scan
   (OCR), in pages per minute.

Prints the figures and PASS/MISS for the p95 ≤ 50 ms target; writes JSON to
``.data/bench/rag-search-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.procs import DATA_DIR
from bench.rag_corpus import (
    MODEL,
    corpus_create,
    org_create,
    sentence_pool,
    vector_literal,
)
from chatapp.devstack.processes import free_port, wait_for_http_ok
from chatapp.devstack.stack import PYTHON, ROOT, Stack

TARGET_P95_MS = 50.0
SAMPLES = ROOT.parent / "shared" / "samples"
MODELS_CONFIG = """\
model_list:
  - model_name: {model}
    litellm_params:
      model: {prefix}/{upstream}
      api_base: {api_base}
      api_key: sk-bench-not-checked{extra}
    model_info:
      mode: embedding
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.rag_search", description=__doc__)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--documents", type=int, default=5_000)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--queries", type=int, default=100, help="per persona and method")
    parser.add_argument("--ingest-repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--embedding-api-base",
        default="",
        help="an OpenAI-compatible /v1 serving multilingual-e5-small for ingestion and "
        "query embeddings (default: the fake upstream)",
    )
    return parser.parse_args(argv)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


# --- Measurements -----------------------------------------------------------------


def personas(org: dict[str, Any]) -> dict[str, Any]:
    """Three readers with different grant mixes: a team member in a group, one in no
    group, and the user named on the most user grants."""
    from django.db.models import Count, Q

    from orgs.models import User

    people = User.objects.filter(organization=org["org"])
    found = {
        "member_in_group": people.filter(org_groups__isnull=False).order_by("id").first(),
        "member_no_group": people.filter(org_groups__isnull=True).order_by("id").first(),
        "most_user_grants": people.annotate(n=Count("id", filter=Q(pk__in=_user_grant_ids())))
        .order_by("-n", "id")
        .first(),
    }
    return {name: user for name, user in found.items() if user is not None}


def _user_grant_ids() -> Any:
    from rag.models import DocumentGrant

    return DocumentGrant.objects.filter(kind="user").values("user_id")


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _row(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "mean_ms": statistics.fmean(times),
        "n": len(times),
    }


def search_latency(
    rng: random.Random,
    people: dict[str, Any],
    queries: int,
    log: Callable[[str], None],
) -> dict[str, dict[str, float]]:
    """Per persona and method, ``queries`` searches of 4 words from a Korean sentence.
    ``vector`` and ``hybrid_sql`` take a random unit vector as the query embedding;
    ``embed`` is the query embedding alone (through the gateway); ``hybrid`` is
    ``rag.search.hybrid_search`` end to end (embedding + both rankings + fusion)."""
    from rag.search import (
        hybrid_search,
        keyword_ranking,
        query_embedding,
        vector_ranking,
    )

    def hybrid_sql(user: Any, q: str, v: list[float]) -> None:
        """hybrid_search given the query's embedding: both rankings (the keyword one
        on a worker thread, as in the web server) and the fusion."""
        hybrid_search(user, q, k=8, query_vector=v)

    questions = [
        " ".join(rng.sample(s.split(), min(4, len(s.split())))) for s, _ in sentence_pool(1000)
    ]
    results: dict[str, dict[str, float]] = {}
    every: dict[str, list[float]] = {
        "keyword": [],
        "vector": [],
        "hybrid_sql": [],
        "embed": [],
        "hybrid": [],
    }
    for name, user in people.items():
        keyword_ranking(user, questions[0], limit=50)  # warm up this persona's ACL path
        for method, times in every.items():
            mine: list[float] = []
            for _ in range(queries):
                q = rng.choice(questions)
                v = [float(x) for x in vector_literal(rng)[1:-1].split(",")]
                if method == "keyword":
                    mine.append(_timed(lambda: keyword_ranking(user, q, limit=50)))  # noqa: B023
                elif method == "vector":
                    mine.append(
                        _timed(lambda: vector_ranking(user, v, model=MODEL, limit=50))  # noqa: B023
                    )
                elif method == "hybrid_sql":
                    mine.append(_timed(lambda: hybrid_sql(user, q, v)))  # noqa: B023
                elif method == "embed":
                    mine.append(_timed(lambda: query_embedding(user, q, model=MODEL)))  # noqa: B023
                else:
                    mine.append(_timed(lambda: hybrid_search(user, q, k=8)))  # noqa: B023
            times.extend(mine)
            results[f"{name}/{method}"] = row = _row(mine)
            log(f"{name:18s} {method:8s} p50 {row['p50_ms']:6.1f} ms  p95 {row['p95_ms']:6.1f} ms")
    for method, times in every.items():
        results[f"all/{method}"] = _row(times)
    return results


def ingestion_throughput(owner: Any, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """``document_ingest`` (parse, OCR, chunk, embed through the gateway, store) on the
    text PDF and on the scan, ``repeats`` times each; pages per minute of ingest time."""
    from rag.ingestion.parsers.ocr import ocr_available
    from rag.services import document_create, document_ingest

    figures: dict[str, Any] = {}
    for label, name in (("pdf_text", "korean.pdf"), ("scan_ocr", "korean_scan.png")):
        if label == "scan_ocr" and not ocr_available():
            figures[label] = {"file": name, "error": "tesseract with Korean is not installed"}
            log(f"ingest {name}: skipped, OCR unavailable")
            continue
        data = (SAMPLES / name).read_bytes()
        pages, seconds = 0, 0.0
        try:
            for _ in range(repeats):
                document = document_create(
                    owner=owner, filename=name, data=data, allow_duplicate=True
                )
                started = time.perf_counter()
                result = document_ingest(document.pk)
                seconds += time.perf_counter() - started
                if result is None or result.status != "ready":
                    raise RuntimeError(f"not ready: {result.error if result else 'deleted'}")
                pages += result.page_count or 1
        except Exception as error:  # report the broken step, keep the other figures
            figures[label] = {"file": name, "error": f"{type(error).__name__}: {error}"}
            log(f"ingest {name}: FAILED {figures[label]['error']}")
            continue
        rate = 60 * pages / seconds
        figures[label] = {
            "file": name,
            "documents": repeats,
            "pages": pages,
            "seconds": seconds,
            "pages_per_minute": rate,
        }
        log(f"ingest {name}: {pages} pages in {seconds:.2f} s = {rate:.0f} pages/min")
    return figures


def run(args: argparse.Namespace, stack: Stack, log: Callable[[str], None]) -> dict[str, Any]:
    os.environ.update(stack.env)
    import django

    django.setup()
    from django.test.utils import override_settings

    rng = random.Random(args.seed)  # noqa: S311 - reproducible data, not secrets
    org = org_create(rng, args.users)
    log(f"organization: {len(org['teams'])} teams, {args.users} users, 12 groups")
    figures: dict[str, Any] = {"chunks": args.chunks, "documents": args.documents}
    figures.update(corpus_create(rng, org, documents=args.documents, chunks=args.chunks, log=log))
    people = personas(org)
    with override_settings(RAG_EMBEDDING_MODEL=MODEL, MEDIA_ROOT=str(stack.data_dir / "media")):
        figures["latency"] = search_latency(rng, people, args.queries, log)
        figures["ingestion"] = ingestion_throughput(org["users"][0], args.ingest_repeats, log)
    return figures


def render(figures: dict[str, Any]) -> str:
    lines = [
        f"RAG search at {figures['chunks']} chunks / {figures['documents']} documents "
        "(permission filter in every query)",
        f"  {'persona/method':34s} {'p50 ms':>8s} {'p95 ms':>8s}",
    ]
    for key, row in figures["latency"].items():
        lines.append(f"  {key:34s} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f}")
    for key in ("hybrid_sql", "hybrid"):
        p95 = figures["latency"][f"all/{key}"]["p95_ms"]
        verdict = "PASS" if p95 <= TARGET_P95_MS else "MISS"
        lines.append(f"  {key} p95 {p95:.1f} ms (target ≤ {TARGET_P95_MS:.0f} ms): {verdict}")
    for label, row in figures["ingestion"].items():
        if "error" in row:
            lines.append(f"  ingestion {label:9s} not measured: {row['error']}")
            continue
        lines.append(
            f"  ingestion {label:9s} {row['pages_per_minute']:8.0f} pages/min"
            f" ({row['pages']} pages in {row['seconds']:.1f} s)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-rag-", dir=DATA_DIR))
    stack = Stack(data_dir=scratch, persist=False)
    try:
        stack.start_databases()
        stack.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "chatapp.settings",
                "DJANGO_DEBUG": "0",
                "LOG_LEVEL": "WARNING",
                # as in the web server: pooled connections, so hybrid search runs its
                # keyword ranking beside the embedding and the vector ranking
                "DATABASE_POOL": "8",
                # and the query embedding's usage row written by the ledger's thread
                "LEDGER_SYNC_FLUSH": "0",
            }
        )
        stack.manage("migrate", "--noinput", "-v", "0")
        api_base, prefix, upstream = args.embedding_api_base, "hosted_vllm", "multilingual-e5-small"
        if not api_base:
            port = free_port()
            fake = stack.spawn(
                "fake-upstream",
                [PYTHON, "-m", "tests.fake_upstream", "--port", str(port)],
                log=scratch / "logs" / "fake-upstream.log",
            )
            wait_for_http_ok(
                f"http://127.0.0.1:{port}/v1/models",
                timeout=30,
                process=fake.process,
                name="fake upstream",
                log=fake.log,
            )
            api_base, prefix, upstream = f"http://127.0.0.1:{port}/v1", "openai", "fake-embed"
        config = scratch / "models.yaml"
        config.write_text(
            MODELS_CONFIG.format(
                model=MODEL,
                prefix=prefix,
                upstream=upstream,
                api_base=api_base,
                # e5 needs to know queries from passages; the fake upstream ignores it
                extra="\n      input_type: true" if args.embedding_api_base else "",
            ),
            encoding="utf-8",
        )
        stack.manage("apply_models_config", str(config))
        stack.log(f"embedding deployment {MODEL} → {prefix}/{upstream} at {api_base}")
        figures = run(args, stack, stack.log)
        figures["embedding"] = f"{prefix}/{upstream}"
        figures["loadavg"] = Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]
        sys.stdout.write(render(figures) + "\n")
        out = DATA_DIR / "bench" / f"rag-search-{time.strftime('%Y%m%dT%H%M%S')}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
        sys.stdout.write(f"figures written to {out}\n")
        return 0
    finally:
        stack.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
