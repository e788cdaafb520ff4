"""Conversations and messages: rows, not JSON blobs (R1)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _


class Conversation(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    model_name = models.CharField(_("model"), max_length=200)
    system_prompt = models.TextField(_("system prompt"), blank=True)
    pinned = models.BooleanField(_("pinned"), default=False)
    archived = models.BooleanField(_("archived"), default=False)
    # Answers draw on the company documents its owner may read (the attached files
    # always count).
    company_knowledge = models.BooleanField(_("uses company documents"), default=True)
    deleted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The leaf of the branch on screen; regenerating or editing moves it.
    current_leaf = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    total_cost_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    # A column of a side-by-side comparison (kept out of the sidebar).
    comparison = models.ForeignKey(
        "Comparison", on_delete=models.CASCADE, null=True, blank=True, related_name="columns"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ("-pinned", "-updated_at")
        indexes = [
            models.Index(fields=("user", "deleted_at", "-updated_at")),
            # Trigram indexes make title and content search work for Hangul as for Latin.
            GinIndex(fields=["title"], opclasses=["gin_trgm_ops"], name="conversation_title_trgm"),
        ]

    def __str__(self) -> str:
        return self.title or f"#{self.pk}"


class Message(models.Model):
    """One turn. Messages form a tree through ``parent``: siblings are regenerations
    or edits. An assistant message's ``content`` grows while it streams (appended in
    batches); ``status`` says whether it is complete."""

    class Role(models.TextChoices):
        USER = "user", _("user")
        ASSISTANT = "assistant", _("assistant")

    class Status(models.TextChoices):
        STREAMING = "streaming", _("streaming")
        COMPLETE = "complete", _("complete")
        STOPPED = "stopped", _("stopped")
        ERROR = "error", _("error")
        INTERRUPTED = "interrupted", _("interrupted")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    model_name = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    ttft_ms = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    # What the gateway said, in words the reader can act on (budget, personal data, ...).
    error_text = models.CharField(max_length=500, blank=True)
    # Which process is generating it, for marking crashed generations as interrupted.
    worker = models.CharField(max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ("created_at", "id")
        indexes = [
            models.Index(fields=("conversation", "created_at")),
            models.Index(fields=("status", "heartbeat_at")),
            GinIndex(fields=["content"], opclasses=["gin_trgm_ops"], name="message_content_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.role} #{self.pk} ({self.status})"


class PromptTemplate(models.Model):
    """A reusable prompt with ``{{variables}}``, private, shared with a department (and its
    sub-departments) or with the whole organization."""

    class Scope(models.TextChoices):
        PRIVATE = "private", _("only me")
        DEPARTMENT = "department", _("my department")
        ORGANIZATION = "organization", _("everyone")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prompt_templates"
    )
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("prompt"))
    scope = models.CharField(
        _("shared with"), max_length=16, choices=Scope.choices, default=Scope.PRIVATE
    )
    department = models.ForeignKey(
        "orgs.Department", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("prompt template")
        verbose_name_plural = _("prompt templates")
        ordering = ("title",)

    def __str__(self) -> str:
        return self.title


class Comparison(models.Model):
    """One prompt sent to two to four models side by side; each column is a conversation.
    The user's pick is kept for a later leaderboard."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comparisons"
    )
    prompt = models.TextField(_("prompt"))
    winner_model = models.CharField(max_length=200, blank=True)
    voted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("comparison")
        verbose_name_plural = _("comparisons")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"#{self.pk} {self.winner_model or '-'}"


class MessageCitation(models.Model):
    """A company document passage an answer was given, numbered as the prompt cited it."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="citations")
    ordinal = models.PositiveSmallIntegerField()
    document = models.ForeignKey(
        "rag.Document", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The passage itself, opened from the citation (after a permission check). Not a
    # constraint: chunks are replaced in bulk on every re-ingestion, which a SET_NULL
    # would turn into loading each one; a replaced passage's link then finds nothing.
    chunk = models.ForeignKey(
        "rag.Chunk",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    title = models.CharField(max_length=300)
    page = models.PositiveIntegerField(null=True, blank=True)
    excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ("message", "ordinal")

    def __str__(self) -> str:
        return f"[{self.ordinal}] {self.title}"


class ConversationFile(models.Model):
    """A file attached to a conversation: a private document of its owner (``scope``
    chat, or a document they uploaded before with the same content), searched in
    this conversation's answers."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="files")
    document = models.ForeignKey("rag.Document", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("conversation", "created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("conversation", "document"), name="conversation_file_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} ← {self.document_id}"
