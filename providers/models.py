"""Configured model deployments and how the router treats them."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

PROVIDER_PREFIXES = (
    "openai",
    "hosted_vllm",
    "azure",
    "anthropic",
    "gemini",
    "vertex_ai",
    "bedrock",
)


class Deployment(models.Model):
    """One upstream endpoint serving a public model name (a LiteLLM `model_list` entry).

    Several deployments may share ``model_name``; the router picks among them.
    ``api_base`` and secret parameters may be ``os.environ/VAR`` references that are
    resolved at call time; a literal key is kept only encrypted.
    """

    class Source(models.TextChoices):
        CONFIG = "config", _("configuration file")
        ADMIN = "admin", _("admin UI")

    class Mode(models.TextChoices):
        CHAT = "chat", _("chat")
        EMBEDDING = "embedding", _("embedding")

    model_name = models.CharField(_("model name"), max_length=200, db_index=True)
    provider = models.CharField(
        _("provider"), max_length=32, choices=[(p, p) for p in PROVIDER_PREFIXES]
    )
    upstream_model = models.CharField(_("upstream model"), max_length=300)
    api_base = models.CharField(_("API base URL"), max_length=500, blank=True)
    api_version = models.CharField(_("API version"), max_length=50, blank=True)
    # Secret parameters (api_key, AWS keys, a Vertex service account): environment
    # references by name, literal values only encrypted (see providers.secrets).
    secret_env = models.JSONField(_("secrets from the environment"), default=dict, blank=True)
    secrets_ciphertext = models.BinaryField(_("encrypted secrets"), blank=True, default=b"")
    api_key_last4 = models.CharField(max_length=4, blank=True)
    # Other litellm_params, not secret (aws_region_name, vertex_project, safety_settings, ...).
    params = models.JSONField(_("other parameters"), default=dict, blank=True)
    rpm = models.PositiveIntegerField(_("requests per minute"), null=True, blank=True)
    tpm = models.PositiveIntegerField(_("tokens per minute"), null=True, blank=True)
    weight = models.PositiveIntegerField(_("weight"), default=1)
    timeout_seconds = models.FloatField(_("timeout (s)"), null=True, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.CHAT)
    max_input_tokens = models.PositiveIntegerField(null=True, blank=True)
    max_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    input_cost_per_token = models.DecimalField(
        max_digits=20, decimal_places=12, null=True, blank=True
    )
    output_cost_per_token = models.DecimalField(
        max_digits=20, decimal_places=12, null=True, blank=True
    )
    cache_read_cost_per_token = models.DecimalField(
        max_digits=20, decimal_places=12, null=True, blank=True
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    # Inside the company network? Unset: only hosted_vllm is. The personal data guard
    # screens every call to a deployment that is not.
    on_premises = models.BooleanField(
        _("runs inside the company network"),
        null=True,
        blank=True,
        help_text=_("Leave empty to decide by provider (only hosted_vllm is on premises)."),
    )
    byok = models.CharField(
        _("own provider keys"),
        max_length=8,
        choices=[
            ("allowed", _("allowed: a registered own key is used instead of the company's")),
            ("required", _("required: only callable with an own key")),
            ("off", _("off: always the company's key")),
        ],
        default="allowed",
    )
    config_id = models.CharField(
        max_length=200, blank=True, help_text="model_info.id from the file"
    )
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CONFIG)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("deployment")
        verbose_name_plural = _("deployments")
        ordering = ("model_name", "id")

    def __str__(self) -> str:
        return f"{self.model_name} → {self.provider}/{self.upstream_model}"


class RouterSettings(models.Model):
    """The singleton `router_settings` of the models configuration."""

    routing_strategy = models.CharField(max_length=40, default="simple-shuffle")
    num_retries = models.PositiveSmallIntegerField(default=2)
    timeout_seconds = models.FloatField(default=600)
    allowed_fails = models.PositiveSmallIntegerField(default=3)
    cooldown_seconds = models.PositiveIntegerField(default=60)

    class Meta:
        verbose_name = _("router settings")
        verbose_name_plural = _("router settings")

    def __str__(self) -> str:
        return self.routing_strategy


class Fallback(models.Model):
    """When ``model_name`` fails (or does not fit the context), try ``fallback_model_names``."""

    class Kind(models.TextChoices):
        GENERAL = "general", _("on failure")
        CONTEXT_WINDOW = "context_window", _("when the context does not fit")

    model_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    position = models.PositiveSmallIntegerField()
    fallback_model_name = models.CharField(max_length=200)

    class Meta:
        ordering = ("model_name", "kind", "position")
        constraints = [
            models.UniqueConstraint(
                fields=("model_name", "kind", "position"), name="fallback_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_name} → {self.fallback_model_name} ({self.kind})"


class VirtualKey(models.Model):
    """A key for the OpenAI-compatible API, owned by a user (and so a department).

    Only the SHA-256 of the key is stored; the key itself is shown once. The
    keys are 256-bit random tokens, so a plain hash is enough (no password
    stretching needed).
    """

    user = models.ForeignKey("orgs.User", on_delete=models.CASCADE, related_name="virtual_keys")
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=16, help_text="the first characters, for recognising it")
    key_hash = models.CharField(max_length=64, unique=True)
    allowed_models = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    max_budget_usd = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    rpm = models.PositiveIntegerField(_("requests per minute"), null=True, blank=True)
    tpm = models.PositiveIntegerField(_("tokens per minute"), null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("virtual key")
        verbose_name_plural = _("virtual keys")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"


class PriceEntry(models.Model):
    """The pricing catalog: USD per token for an upstream model name.

    A deployment's own prices (from ``model_info``) win over the catalog.
    """

    model = models.CharField(max_length=300, unique=True)
    input_cost_per_token = models.DecimalField(max_digits=20, decimal_places=12, default=0)
    output_cost_per_token = models.DecimalField(max_digits=20, decimal_places=12, default=0)
    cache_read_cost_per_token = models.DecimalField(
        max_digits=20, decimal_places=12, null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        ordering = ("model",)

    def __str__(self) -> str:
        return self.model


class UsageRecord(models.Model):
    """The ledger: one row per upstream attempt (retries and fallbacks included).

    ``request_id`` groups the attempts of one client request; ``is_final`` marks
    the attempt whose answer (or error) the client received.
    """

    class Status(models.TextChoices):
        OK = "ok", _("ok")
        ERROR = "error", _("error")
        CANCELLED = "cancelled", _("cancelled")

    request_id = models.CharField(max_length=40, db_index=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    is_final = models.BooleanField(default=True)
    created_at = models.DateTimeField(db_index=True)
    # No database constraints: the ledger keeps its rows whatever happens to the
    # keys, people and deployments they name, and inserts never wait on them.
    virtual_key = models.ForeignKey(
        VirtualKey,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    user = models.ForeignKey(
        "orgs.User",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    department = models.ForeignKey(
        "orgs.Department",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    source = models.CharField(max_length=16, default="api")  # api | chat | rag
    operation = models.CharField(max_length=16, default="chat")  # chat | embedding
    model_group = models.CharField(max_length=200)
    deployment = models.ForeignKey(
        Deployment,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    provider = models.CharField(max_length=32, blank=True)
    upstream_model = models.CharField(max_length=300, blank=True)
    streamed = models.BooleanField(default=False)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=16, decimal_places=10, default=0)
    ttft_ms = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(default=0)
    tokens_per_second = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    error_class = models.CharField(max_length=64, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # Set when the caller's own provider key (BYOK vault) paid for the attempt.
    own_key_id = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("department", "created_at")),
            models.Index(fields=("user", "created_at")),
            models.Index(fields=("model_group", "created_at")),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}#{self.attempt} {self.model_group} {self.status}"
