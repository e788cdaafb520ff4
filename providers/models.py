"""Configured model deployments and how the router treats them."""

from __future__ import annotations

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
    description = models.CharField(_("description"), max_length=300, blank=True)
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
