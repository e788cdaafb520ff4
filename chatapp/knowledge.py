"""Company documents in a chat turn: retrieve what the user may read, put it in the
prompt with numbers to cite, and keep the citations with the answer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from chatapp.models import Message, MessageCitation
from providers.errors import GatewayError
from rag.models import Document
from rag.search import hybrid_search

if TYPE_CHECKING:
    from orgs.models import User
    from rag.search import SearchResult

logger = logging.getLogger(__name__)
PASSAGES = 4
EXCERPT_CHARS = 1500


@dataclass(frozen=True)
class Passage:
    ordinal: int
    document_id: int
    title: str
    page: int | None
    text: str
    chunk_id: int | None = None


def passages_for(
    user: User, question: str, attachments: Sequence[int] = (), *, company: bool = True
) -> list[Passage]:
    """The best passages among the documents ``user`` may read (the ACL is applied in the
    search SQL; ``company``: the company's documents too) and the conversation's own
    files ``attachments``. Empty when there is nothing to search or search is
    unavailable: the chat then answers without company knowledge rather than failing."""
    if not (company or attachments):
        return []
    if not Document.objects.filter(status=Document.Status.READY).exists():
        return []
    try:
        results: list[SearchResult] = hybrid_search(
            user, question, k=PASSAGES, attachments=attachments, library=company
        )
    except GatewayError as exc:
        logger.warning("document search unavailable for a chat turn: %s", exc.message)
        return []
    return [
        Passage(i + 1, r.document_id, r.title, r.page, r.text[:EXCERPT_CHARS], r.chunk_id)
        for i, r in enumerate(results)
    ]


def knowledge_prompt(passages: list[Passage]) -> str:
    parts = [
        _(
            "Answer from the company documents below when they are relevant, and cite them "
            "as [1], [2]. If they do not answer the question, say so and answer from general "
            "knowledge."
        )
    ]
    for p in passages:
        page = f" (p. {p.page})" if p.page else ""
        parts.append(f"[{p.ordinal}] {p.title}{page}\n{p.text}")
    return "\n\n".join(parts)


def citations_store(message: Message, passages: list[Passage]) -> None:
    MessageCitation.objects.bulk_create(
        [
            MessageCitation(
                message=message,
                ordinal=p.ordinal,
                document_id=p.document_id,
                chunk_id=p.chunk_id,
                title=p.title[:300],
                page=p.page,
                excerpt=p.text[:500],
            )
            for p in passages
        ]
    )
