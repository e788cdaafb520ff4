"""Documents, who may read them, and their searchable chunks.

The ACL is rows (R1): ``Document.org_wide`` plus one ``DocumentGrant`` per
department, group or user it is shared with. The owner can always read;
``rag.permissions.readable_documents_filter`` is the one place that turns these
rows into a query.
"""

from __future__ import annotations

import uuid
from typing import Final

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from pgvector.django import HnswIndex, VectorField

from orgs.models import Department, Group, Organization, User
from rag.failures import failure_text

# The dimension the HNSW index covers. Vectors of another dimension are stored and
# searched exactly (without the index) until a migration adds a partial index for it.
EMBEDDING_DIM: Final = 384


def document_upload_to(instance: Document, filename: str) -> str:
    """``documents/<uuid>/<filename>``: a fresh folder per upload, so the original
    (Korean) file name is kept and two uploads never collide."""
    return f"documents/{uuid.uuid4().hex}/{filename}"


class Document(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        PROCESSING = "processing", _("processing")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    class Stage(models.TextChoices):
        NONE = "", _("none")
        PARSING = "parsing", _("parsing")
        OCR = "ocr", _("OCR")
        CHUNKING = "chunking", _("chunking")
        EMBEDDING = "embedding", _("embedding")

    class Scope(models.TextChoices):
        LIBRARY = "library", _("company documents")
        CHAT = "chat", _("file attached to a conversation")

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="documents"
    )
    # A chat file is private to its owner and searched only in the conversations it is
    # attached to (chatapp.ConversationFile); library documents everywhere their ACL allows.
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.LIBRARY)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=300)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=150, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    content_hash = models.CharField(max_length=64, db_index=True)
    file = models.FileField(upload_to=document_upload_to, max_length=500)
    org_wide = models.BooleanField(_("whole organization may read"), default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=16, choices=Stage.choices, default="", blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    # the failure's stable code (rag.errors, or a gateway error's), translated on pages
    error_code = models.CharField(max_length=64, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=("owner", "content_hash"), name="rag_document_owner_hash"),
            models.Index(fields=("organization", "org_wide"), name="rag_document_org_wide"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="rag_document_progress_max_100"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def failure_text(self) -> str:
        """Why it failed, in the reader's language (``rag.failures``)."""
        return failure_text(self.error_code, self.error)


class DocumentGrant(models.Model):
    """One reader of a document besides its owner: a department (with or without
    its subdepartments), a group, or a user. Exactly the field of ``kind`` is set."""

    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("department")
        GROUP = "group", _("group")
        USER = "user", _("user")

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="grants")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    include_subdepartments = models.BooleanField(default=False)
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("document grant")
        verbose_name_plural = _("document grants")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind="department",
                        department__isnull=False,
                        group__isnull=True,
                        user__isnull=True,
                    )
                    | models.Q(
                        kind="group",
                        department__isnull=True,
                        group__isnull=False,
                        user__isnull=True,
                        include_subdepartments=False,
                    )
                    | models.Q(
                        kind="user",
                        department__isnull=True,
                        group__isnull=True,
                        user__isnull=False,
                        include_subdepartments=False,
                    )
                ),
                name="rag_grant_one_target",
            )
        ]

    def __str__(self) -> str:
        target = self.department_id or self.group_id or self.user_id
        return f"{self.document_id} → {self.kind} {target}"


class Chunk(models.Model):
    """A searchable piece of a document, with its embedding and its Korean tokens.

    ``embedding`` is an untyped ``vector`` column: each row records the model and
    dimension that produced it (``embedding_model``, ``embedding_dim``), so the
    embedding model can be changed and documents re-embedded without a schema
    change. The HNSW index is a *partial expression index*
    ``((embedding::vector(384)) vector_cosine_ops) WHERE embedding_dim = 384``;
    queries use the same cast and condition (``rag.search``) to reach it. To move
    to another dimension, add a second partial index for it in a migration (e.g.
    ``embedding::vector(1024) WHERE embedding_dim = 1024``), re-embed the documents,
    and drop the old index once nothing of that dimension is left.

    ``tsv`` is generated by PostgreSQL as ``to_tsvector('simple', search_tokens)``.
    """

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    page = models.PositiveIntegerField(null=True, blank=True)
    heading_path = models.TextField(blank=True)
    embedding = VectorField(null=True, blank=True)
    embedding_model = models.CharField(max_length=200, blank=True)
    embedding_dim = models.PositiveIntegerField(null=True, blank=True)
    search_tokens = models.TextField(blank=True)
    tsv = models.GeneratedField(
        expression=SearchVector("search_tokens", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        verbose_name = _("chunk")
        verbose_name_plural = _("chunks")
        ordering = ("document", "ordinal")
        constraints = [
            models.UniqueConstraint(fields=("document", "ordinal"), name="rag_chunk_unique_ordinal")
        ]
        indexes = [
            GinIndex(fields=("tsv",), name="rag_chunk_tsv"),
            HnswIndex(
                OpClass(
                    Cast("embedding", VectorField(dimensions=EMBEDDING_DIM)),
                    name="vector_cosine_ops",
                ),
                name="rag_chunk_embedding_384",
                m=16,
                ef_construction=64,
                condition=models.Q(embedding_dim=EMBEDDING_DIM),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal}"
