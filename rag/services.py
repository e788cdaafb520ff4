"""Writes on documents: upload, ACL, deletion, and the ingestion pipeline (R2).

Services trust that permission was checked (``rag.permissions``). The Celery task
and the HTTP API are thin wrappers around these functions.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from orgs.audit import audit_record
from orgs.models import Department, Group, User
from providers import gateway
from providers.errors import GatewayError
from providers.types import EmbeddingRequest
from rag.errors import AclInvalid, DocumentError, DuplicateDocument
from rag.ingestion.chunking import chunk_blocks
from rag.ingestion.hashing import content_hash
from rag.ingestion.parsers import ParseLimits, parse_document
from rag.models import EMBEDDING_DIM, Chunk, Document, DocumentGrant
from rag.tokens import search_tokens

if TYPE_CHECKING:
    from providers.keys import Caller
    from rag.ingestion.chunking import Chunk as TextChunk

logger = logging.getLogger(__name__)

EMBED_BATCH: Final = 32
HEADING_SEPARATOR: Final = " > "
_ACL_KEYS: Final = frozenset(
    {"org_wide", "departments", "include_subdepartments", "groups", "users"}
)


def embedding_model_name() -> str:
    return str(getattr(settings, "RAG_EMBEDDING_MODEL", "embedding"))


# --- ACL ----------------------------------------------------------------------


@dataclass(frozen=True)
class AclSpec:
    """The contract-6 ACL as sent by clients; every key optional. The empty spec
    makes a document private to its owner."""

    org_wide: bool = False
    departments: tuple[str, ...] = ()
    include_subdepartments: bool = False
    groups: tuple[str, ...] = ()
    users: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResolvedAcl:
    org_wide: bool
    departments: list[Department] = field(default_factory=list)
    include_subdepartments: bool = False
    groups: list[Group] = field(default_factory=list)
    users: list[User] = field(default_factory=list)


def _str_list(raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise AclInvalid(f"acl.{key} must be a list of non-empty strings.")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _bool(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise AclInvalid(f"acl.{key} must be true or false.")
    return value


def acl_parse(raw: Mapping[str, Any] | None) -> AclSpec:
    """The shape check of a contract-6 ACL (``None`` or ``{}``: private)."""
    if raw is None:
        return AclSpec()
    if not isinstance(raw, Mapping):
        raise AclInvalid("acl must be a JSON object.")
    unknown = sorted(set(raw) - _ACL_KEYS)
    if unknown:
        raise AclInvalid(f"Unknown acl key(s): {', '.join(unknown)}.")
    return AclSpec(
        org_wide=_bool(raw, "org_wide"),
        departments=_str_list(raw, "departments"),
        include_subdepartments=_bool(raw, "include_subdepartments"),
        groups=_str_list(raw, "groups"),
        users=tuple(u.lower() for u in _str_list(raw, "users")),
    )


def check_acl(acl: AclSpec, *, owner: User) -> ResolvedAcl:
    """Resolve names in the owner's organization; ``AclInvalid`` names what is unknown."""
    org_id = owner.organization_id
    if org_id is None:
        if acl.org_wide or acl.departments or acl.groups or acl.users:
            raise AclInvalid("The owner belongs to no organization, so it cannot be shared.")
        return ResolvedAcl(org_wide=False)
    departments = {
        d.code: d
        for d in Department.objects.filter(
            organization_id=org_id, code__in=acl.departments, is_active=True
        )
    }
    groups = {g.name: g for g in Group.objects.filter(organization_id=org_id, name__in=acl.groups)}
    users = {
        u.email.lower(): u
        for u in User.objects.filter(organization_id=org_id, email__in=acl.users, is_active=True)
    }
    for label, wanted, found in (
        ("department code", acl.departments, departments),
        ("group", acl.groups, groups),
        ("user e-mail", acl.users, users),
    ):
        missing = [w for w in wanted if w not in found]
        if missing:
            raise AclInvalid(f"Unknown {label}(s) in this organization: {', '.join(missing)}.")
    return ResolvedAcl(
        org_wide=acl.org_wide,
        departments=[departments[c] for c in acl.departments],
        include_subdepartments=acl.include_subdepartments,
        groups=[groups[n] for n in acl.groups],
        users=[users[e] for e in acl.users],
    )


def _grants_replace(document: Document, acl: ResolvedAcl) -> None:
    document.grants.all().delete()
    kind = DocumentGrant.Kind
    DocumentGrant.objects.bulk_create(
        [
            DocumentGrant(
                document=document,
                kind=kind.DEPARTMENT,
                department=d,
                include_subdepartments=acl.include_subdepartments,
            )
            for d in acl.departments
        ]
        + [DocumentGrant(document=document, kind=kind.GROUP, group=g) for g in acl.groups]
        + [DocumentGrant(document=document, kind=kind.USER, user=u) for u in acl.users]
    )
    if document.org_wide != acl.org_wide:
        document.org_wide = acl.org_wide
        document.save(update_fields=["org_wide", "updated_at"])


def _acl_details(acl: AclSpec) -> dict[str, Any]:
    return {
        "org_wide": acl.org_wide,
        "departments": list(acl.departments),
        "include_subdepartments": acl.include_subdepartments,
        "groups": list(acl.groups),
        "users": list(acl.users),
    }


def document_acl_get(document: Document) -> AclSpec:
    """The document's ACL back in contract-6 shape."""
    grants = list(document.grants.select_related("department", "group", "user"))
    deps = [g for g in grants if g.kind == DocumentGrant.Kind.DEPARTMENT]
    return AclSpec(
        org_wide=document.org_wide,
        departments=tuple(g.department.code for g in deps if g.department is not None),
        include_subdepartments=any(g.include_subdepartments for g in deps),
        groups=tuple(g.group.name for g in grants if g.group is not None),
        users=tuple(g.user.email for g in grants if g.user is not None),
    )


@transaction.atomic
def document_acl_set(*, document: Document, acl: AclSpec, actor: User | None) -> Document:
    """Replace who may read ``document`` (the owner always can). A file attached to a
    conversation stays private."""
    if document.scope == Document.Scope.CHAT and acl != AclSpec():
        raise AclInvalid("A file attached to a conversation stays private to its owner.")
    resolved = check_acl(acl, owner=document.owner)
    _grants_replace(document, resolved)
    audit_record(actor=actor, action="document.acl_set", target=document, details=_acl_details(acl))
    return document


# --- Documents ----------------------------------------------------------------


def document_duplicate_of(
    *, owner: User, digest: str, scope: str | None = None, usable: bool = False
) -> Document | None:
    """``owner``'s first document with this content (of ``scope``, if given; with
    ``usable``, not one whose ingestion failed)."""
    documents = Document.objects.filter(owner=owner, content_hash=digest)
    if scope is not None:
        documents = documents.filter(scope=scope)
    if usable:
        documents = documents.exclude(status=Document.Status.FAILED)
    return documents.order_by("id").first()


@transaction.atomic
def document_create(
    *,
    owner: User,
    filename: str,
    data: bytes,
    title: str = "",
    acl: AclSpec | None = None,
    content_type: str = "",
    allow_duplicate: bool = False,
    scope: str = Document.Scope.LIBRARY,
) -> Document:
    """Store an upload as a ``queued`` document with its ACL (none: private). A
    ``CHAT`` document (a file attached to a conversation) stays private.

    The same content uploaded again by the same owner raises ``DuplicateDocument``
    naming the first one, unless ``allow_duplicate``. Queuing the ingestion task is
    the caller's (the API's) job, after commit.
    """
    digest = content_hash(data)
    if not allow_duplicate:
        existing = document_duplicate_of(owner=owner, digest=digest, scope=scope)
        if existing is not None:
            raise DuplicateDocument(
                f"This file was already uploaded as “{existing.title}”.", document_id=existing.pk
            )
    if owner.organization_id is None:
        raise AclInvalid("The owner belongs to no organization.")
    acl = acl or AclSpec()
    if scope == Document.Scope.CHAT and acl != AclSpec():
        raise AclInvalid("A file attached to a conversation stays private to its owner.")
    resolved = check_acl(acl, owner=owner)
    name = _file_name(filename)
    document = Document(
        organization_id=owner.organization_id,
        owner=owner,
        title=(title.strip() or name)[:300],
        filename=name[:255],
        content_type=content_type[:150],
        size=len(data),
        content_hash=digest,
        org_wide=acl.org_wide,
        scope=scope,
    )
    document.file.save(name, ContentFile(data), save=False)
    document.save()
    _grants_replace(document, resolved)
    audit_record(
        actor=owner,
        action="document.create",
        target=document,
        details={
            "filename": name,
            "size": len(data),
            "acl": _acl_details(acl),
            "scope": scope,
        },
    )
    return document


def _file_name(filename: str) -> str:
    """The base name of an uploaded file (browsers may send a path)."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "document"


@transaction.atomic
def document_replace(
    *, document: Document, filename: str, data: bytes, content_type: str, actor: User | None
) -> Document:
    """A new version of the file: queued for ingestion, which replaces the chunks; until
    then the document is not searched. Title and ACL stay; the old file goes after
    commit. Queuing the ingestion is the caller's job, as for ``document_create``."""
    old_storage, old_path = document.file.storage, document.file.name
    name = _file_name(filename)
    document.filename = name[:255]
    document.content_type = content_type[:150]
    document.size = len(data)
    document.content_hash = content_hash(data)
    document.status = Document.Status.QUEUED
    document.stage = Document.Stage.NONE
    document.progress = 0
    document.error = ""
    document.error_code = ""
    document.page_count = None
    document.file.save(name, ContentFile(data), save=False)
    document.save()
    audit_record(
        actor=actor,
        action="document.replace",
        target=document,
        details={"filename": name, "size": len(data), "content_hash": document.content_hash},
    )
    if old_path:
        transaction.on_commit(lambda: old_storage.delete(old_path))
    return document


@transaction.atomic
def document_delete(*, document: Document, actor: User | None) -> None:
    """Delete the document, its grants and chunks; the file goes after commit."""
    storage, path = document.file.storage, document.file.name
    audit_record(
        actor=actor,
        action="document.delete",
        target=document,
        details={"filename": document.filename, "content_hash": document.content_hash},
    )
    document.delete()
    if path:
        transaction.on_commit(lambda: storage.delete(path))


@transaction.atomic
def document_chunks_store(
    *,
    document: Document,
    chunks: Sequence[TextChunk],
    vectors: Sequence[Sequence[float]],
    model: str,
    dim: int,
) -> list[Chunk]:
    """Replace all of the document's chunks in one transaction: a re-ingestion
    replaces the old chunks, and no reader ever sees half of them."""
    if len(chunks) != len(vectors):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors.")
    if any(len(v) != dim for v in vectors):
        raise ValueError(f"Every vector must have {dim} dimensions.")
    Chunk.objects.filter(document=document).delete()
    return Chunk.objects.bulk_create(
        Chunk(
            document=document,
            ordinal=i,
            text=c.text,
            page=c.page,
            heading_path=HEADING_SEPARATOR.join(c.heading_path),
            embedding=list(v),
            embedding_model=model,
            embedding_dim=dim,
            search_tokens=search_tokens(HEADING_SEPARATOR.join([*c.heading_path, c.text])),
        )
        for i, (c, v) in enumerate(zip(chunks, vectors, strict=True))
    )


def _progress(document_id: int, **fields: Any) -> None:
    Document.objects.filter(pk=document_id).update(**fields)


def parse_limits() -> ParseLimits:
    return ParseLimits(
        max_bytes=int(getattr(settings, "RAG_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)),
        max_pages=int(getattr(settings, "RAG_MAX_PAGES", 1000)),
        ocr_enabled=bool(getattr(settings, "OCR_ENABLED", True)),
    )


def _embedding_text(chunk: TextChunk) -> str:
    if chunk.heading_path:
        return f"{HEADING_SEPARATOR.join(chunk.heading_path)}\n{chunk.text}"
    return chunk.text


def passages_embed(
    texts: Sequence[str],
    *,
    model: str,
    caller: Caller,
    on_batch: Callable[[float], None] | None = None,
) -> list[list[float]]:
    """Passage vectors for ``texts`` through the gateway, ``EMBED_BATCH`` at a time;
    ``on_batch`` gets the fraction done after each batch."""
    vectors: list[list[float]] = []
    for start in range(0, len(texts), EMBED_BATCH):
        batch = texts[start : start + EMBED_BATCH]
        response = gateway.embed(
            EmbeddingRequest(
                model=model, inputs=list(batch), dimensions=EMBEDDING_DIM, input_type="passage"
            ),
            caller,
        )
        if len(response.vectors) != len(batch):
            raise DocumentError("The embedding model returned the wrong number of vectors.")
        vectors.extend(list(v) for v in response.vectors)
        if on_batch is not None:
            on_batch(len(vectors) / len(texts))
    return vectors


def document_ingest(document_id: int, *, caller: Caller = gateway.SYSTEM_CALLER) -> Document | None:
    """Parse, chunk, embed and index one stored document; safe to run again.

    Moves the row through ``processing`` (stages parsing → OCR for scans → chunking →
    embedding,
    ``progress`` 0 to 100) to ``ready``, or to ``failed`` with the typed error's
    message and no chunks. Chunks are replaced only at the end, in one transaction.
    Returns None when the document no longer exists.
    """
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return None
    status = Document.Status
    _progress(
        document_id,
        status=status.PROCESSING,
        stage=Document.Stage.PARSING,
        progress=5,
        error="",
        error_code="",
    )
    try:
        with document.file.open("rb") as handle:
            data = handle.read()
        limits = dataclasses.replace(
            parse_limits(),
            on_ocr=lambda: _progress(document_id, stage=Document.Stage.OCR, progress=15),
        )
        parsed = parse_document(data, document.filename, limits)
        _progress(document_id, stage=Document.Stage.CHUNKING, progress=30)
        chunks = chunk_blocks(parsed.blocks)
        if not chunks:
            raise DocumentError("The document contains no text.")
        _progress(document_id, stage=Document.Stage.EMBEDDING, progress=40)
        model = embedding_model_name()
        vectors = passages_embed(
            [_embedding_text(c) for c in chunks],
            model=model,
            caller=caller,
            on_batch=lambda done: _progress(document_id, progress=40 + int(done * 55)),
        )
        dim = len(vectors[0])
        with transaction.atomic():
            document_chunks_store(
                document=document, chunks=chunks, vectors=vectors, model=model, dim=dim
            )
            _progress(
                document_id,
                status=status.READY,
                stage="",
                progress=100,
                page_count=parsed.page_count,
            )
    except (DocumentError, GatewayError) as error:
        message = getattr(error, "message", "") or str(error) or type(error).__name__
        with transaction.atomic():
            Chunk.objects.filter(document_id=document_id).delete()
            _progress(
                document_id,
                status=status.FAILED,
                stage="",
                progress=0,
                error=message,
                error_code=error.code,
            )
        logger.info("document %s failed: %s", document_id, message)
    except Exception:
        with transaction.atomic():
            Chunk.objects.filter(document_id=document_id).delete()
            _progress(
                document_id,
                status=status.FAILED,
                stage="",
                progress=0,
                error="Internal error while indexing the document.",
                error_code="internal_error",
            )
        raise
    document.refresh_from_db()
    return document
