"""Generated data for ``bench.rag_search``: an organization with departments, groups
and users, and documents with mixed ACLs whose chunks carry real Korean sentences
(the KorQuAD passages beside the checkout, recombined at random and tokenised once by
kiwipiepy) and random unit vectors. Django must be set up before these run."""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable
from typing import Any

from chatapp.devstack.stack import ROOT

DIM = 384
MODEL = "embedding"
KORQUAD = ROOT.parent / "shared" / "datasets" / "korquad1-dev-retrieval" / "passages.jsonl"


def sentence_pool(limit: int = 4000) -> list[tuple[str, list[str]]]:
    """Korean sentences with their kiwipiepy tokens, from the KorQuAD passages."""
    from rag.ingestion.sentences import split_sentences
    from rag.tokens import token_list

    pool: list[tuple[str, list[str]]] = []
    for line in KORQUAD.read_text(encoding="utf-8").splitlines():
        for sentence in split_sentences(json.loads(line)["text"]):
            tokens = token_list(sentence)
            if len(sentence) > 20 and tokens:
                pool.append((sentence, tokens))
            if len(pool) >= limit:
                return pool
    return pool


def org_create(rng: random.Random, users: int) -> dict[str, Any]:
    """5 divisions of 4 teams, 12 groups, ``users`` people spread over the teams."""
    from orgs.models import Group, Membership, Organization, User
    from orgs.services import department_create

    org = Organization.objects.create(slug="bench-rag", name="벤치 주식회사")
    divisions, teams = [], []
    for d in range(5):
        division = department_create(organization=org, code=f"D{d}", name=f"본부{d}", parent=None)
        divisions.append(division)
        for t in range(4):
            teams.append(
                department_create(
                    organization=org, code=f"D{d}-T{t}", name=f"팀{d}{t}", parent=division
                )
            )
    people = User.objects.bulk_create(
        User(email=f"user{i}@bench.test", organization=org, password="!")  # noqa: S106
        for i in range(users)
    )
    Membership.objects.bulk_create(
        Membership(user=u, department=teams[i % len(teams)], roles=["member"], is_primary=True)
        for i, u in enumerate(people)
    )
    groups = [Group.objects.create(organization=org, name=f"그룹{g}") for g in range(12)]
    for group in groups:
        group.members.add(*rng.sample(people, min(25, len(people) // 3)))
    return {"org": org, "divisions": divisions, "teams": teams, "users": people, "groups": groups}


def vector_literal(rng: random.Random) -> str:
    values = [rng.gauss(0.0, 1.0) for _ in range(DIM)]
    norm = sum(v * v for v in values) ** 0.5
    return "[" + ",".join(f"{v / norm:.5f}" for v in values) + "]"


def corpus_create(
    rng: random.Random,
    org: dict[str, Any],
    *,
    documents: int,
    chunks: int,
    log: Callable[[str], None],
) -> dict[str, int]:
    """Documents with mixed ACLs, then ``chunks`` chunk rows by COPY; the chunk
    indexes are dropped for the load and rebuilt from their own definitions."""
    from django.db import connection

    from rag.models import Document, DocumentGrant

    pool = sentence_pool()
    owners, teams, divisions, groups = org["users"], org["teams"], org["divisions"], org["groups"]
    kinds = rng.choices(
        ["org_wide", "team", "division_sub", "group", "users", "private"],
        weights=[20, 30, 10, 15, 15, 10],
        k=documents,
    )
    docs = Document.objects.bulk_create(
        Document(
            organization=org["org"],
            owner=rng.choice(owners),
            title=f"문서 {i}",
            filename=f"doc{i}.txt",
            content_hash=f"{i:064x}",
            file=f"bench/doc{i}.txt",
            org_wide=kind == "org_wide",
            status=Document.Status.READY,
            progress=100,
        )
        for i, kind in enumerate(kinds)
    )
    grants: list[DocumentGrant] = []
    for doc, kind in zip(docs, kinds, strict=True):
        if kind == "team":
            grants.append(
                DocumentGrant(document=doc, kind="department", department=rng.choice(teams))
            )
        elif kind == "division_sub":
            grants.append(
                DocumentGrant(
                    document=doc,
                    kind="department",
                    department=rng.choice(divisions),
                    include_subdepartments=True,
                )
            )
        elif kind == "group":
            grants.append(DocumentGrant(document=doc, kind="group", group=rng.choice(groups)))
        elif kind == "users":
            grants.extend(
                DocumentGrant(document=doc, kind="user", user=u) for u in rng.sample(owners, 3)
            )
    DocumentGrant.objects.bulk_create(grants)
    log(f"{len(docs)} documents, {len(grants)} grants")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'rag_chunk' "
            "AND indexname IN ('rag_chunk_tsv', 'rag_chunk_embedding_384')"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    started = time.monotonic()
    per_doc, extra = divmod(chunks, len(docs))
    buffer = io.StringIO()
    for n, doc in enumerate(docs):
        for ordinal in range(per_doc + (1 if n < extra else 0)):
            picked = rng.sample(pool, rng.randint(2, 4))
            text = " ".join(s for s, _ in picked).replace("\t", " ").replace("\\", "")
            tokens = " ".join(t for _, ts in picked for t in ts)
            buffer.write(
                f"{doc.pk}\t{ordinal}\t{text}\t\t{vector_literal(rng)}\t{MODEL}\t{DIM}\t{tokens}\n"
            )
    buffer.seek(0)
    columns = (
        "document_id, ordinal, text, heading_path, embedding, embedding_model, "
        "embedding_dim, search_tokens"
    )
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY rag_chunk ({columns}) FROM STDIN") as copy,
    ):
        copy.write(buffer.getvalue())
    log(f"{chunks} chunks copied in {time.monotonic() - started:.1f} s")
    timings: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        cursor.execute("SET max_parallel_maintenance_workers = 1")
        for name, definition in indexes:
            started = time.monotonic()
            cursor.execute(definition)
            timings[f"index_{name}_s"] = round(time.monotonic() - started)
            log(f"index {name} built in {timings[f'index_{name}_s']} s")
        cursor.execute("ANALYZE rag_chunk, rag_document, rag_documentgrant")
    return timings
