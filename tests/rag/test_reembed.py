"""After the embedding model changes, ``rag_reembed`` moves the stored chunks to it;
documents stay searchable meanwhile, and a failure keeps the old vectors."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from providers.models import Deployment
from rag.models import Chunk
from rag.search import hybrid_search
from tests.personas import Personas
from tests.rag.factories import EMBEDDING_MODEL, embedding_deployment, make_document, media_root

__all__ = ["embedding_deployment", "media_root"]

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("media_root", "embedding_deployment"),
]

LEAVE = "연차휴가는 입사 1년 후 15일이 부여됩니다."
PAYROLL = "급여는 매월 25일에 지급됩니다."


def test_a_new_embedding_model_gets_every_chunk_embedded_again(
    personas: Personas, deployment_factory: Callable[..., Deployment]
) -> None:
    document = make_document(personas.member, [LEAVE, PAYROLL], title="규정")
    deployment_factory("embedding-v2", mode="embedding")
    with override_settings(RAG_EMBEDDING_MODEL="embedding-v2"):
        # the old vectors do not count for the new model; keywords still find it
        assert hybrid_search(personas.member, LEAVE, keyword_weight=0) == []
        assert hybrid_search(personas.member, "연차휴가", vector_weight=0)
        out = StringIO()
        call_command("rag_reembed", "--dry-run", stdout=out)
        assert "1 document(s) to embed with 'embedding-v2'" in out.getvalue()
        assert set(Chunk.objects.values_list("embedding_model", flat=True)) == {EMBEDDING_MODEL}

        out = StringIO()
        call_command("rag_reembed", stdout=out)
        assert "1 document(s), 2 chunk(s) embedded; 0 failed" in out.getvalue()
        assert set(Chunk.objects.values_list("embedding_model", flat=True)) == {"embedding-v2"}
        found = hybrid_search(personas.member, LEAVE, keyword_weight=0)
        assert found[0].document_id == document.pk and found[0].text == LEAVE
        # nothing left to do the second time
        out = StringIO()
        call_command("rag_reembed", stdout=out)
        assert "0 document(s) to embed" in out.getvalue()


def test_a_model_that_does_not_answer_keeps_the_old_vectors(personas: Personas) -> None:
    make_document(personas.member, [LEAVE], title="규정")
    with pytest.raises(CommandError, match="1 document"):
        call_command(
            "rag_reembed", "--model", "no-such-model", stdout=StringIO(), stderr=StringIO()
        )
    assert set(Chunk.objects.values_list("embedding_model", flat=True)) == {EMBEDDING_MODEL}
    assert hybrid_search(personas.member, LEAVE, keyword_weight=0)
