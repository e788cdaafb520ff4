"""Platform admins edit the models configuration here (contract 2's "admin UI").

Secrets are write-only: the API key field is never filled in when the page is
shown; the stored key is only identified by its last four characters.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from providers.deployment_secrets import secrets_open, secrets_seal
from providers.models import (
    Deployment,
    Fallback,
    PriceEntry,
    RouterSettings,
    UsageRecord,
    VirtualKey,
)
from providers.secrets import env_reference


class DeploymentAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    api_key = forms.CharField(
        label=_("API key"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Leave empty to keep the stored key. Write os.environ/NAME to read it from "
            "the environment."
        ),
    )
    clear_api_key = forms.BooleanField(label=_("Remove the stored API key"), required=False)

    class Meta:
        model = Deployment
        fields = (
            "model_name",
            "provider",
            "upstream_model",
            "api_base",
            "api_version",
            "secret_env",
            "params",
            "rpm",
            "tpm",
            "weight",
            "timeout_seconds",
            "mode",
            "max_input_tokens",
            "max_output_tokens",
            "input_cost_per_token",
            "output_cost_per_token",
            "cache_read_cost_per_token",
            "description",
            "on_premises",
            "byok",
            "is_enabled",
        )

    def save(self, commit: bool = True) -> Deployment:
        deployment: Deployment = super().save(commit=False)
        literal = self._stored_literals(deployment)
        new_key = str(self.cleaned_data.get("api_key") or "").strip()
        if self.cleaned_data.get("clear_api_key") or new_key:
            literal.pop("api_key", None)
            deployment.secret_env.pop("api_key", None)
            deployment.api_key_last4 = ""
            if new_key and (env_name := env_reference(new_key)) is not None:
                deployment.secret_env["api_key"] = env_name
            elif new_key:
                literal["api_key"] = new_key
                deployment.api_key_last4 = new_key[-4:]
        # Always sealed again: the blob is bound to the model name and provider, which
        # this form may have just changed.
        deployment.secrets_ciphertext = secrets_seal(
            literal, model_name=deployment.model_name, provider=deployment.provider
        )
        if commit:
            deployment.save()
        return deployment

    def _stored_literals(self, deployment: Deployment) -> dict[str, str]:
        """The secrets stored before this edit, opened with the identity they were sealed for."""
        if not deployment.pk:
            return {}
        original = Deployment.objects.get(pk=deployment.pk)
        return secrets_open(
            bytes(original.secrets_ciphertext),
            model_name=original.model_name,
            provider=original.provider,
        )


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = DeploymentAdminForm
    list_display = (
        "model_name",
        "provider",
        "upstream_model",
        "api_base",
        "mode",
        "is_enabled",
        "api_key_last4",
    )
    list_filter = ("provider", "mode", "is_enabled", "source")
    search_fields = ("model_name", "upstream_model")
    readonly_fields = ("api_key_last4", "source", "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.source = Deployment.Source.ADMIN
        super().save_model(request, obj, form, change)


@admin.register(VirtualKey)
class VirtualKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("prefix", "name", "user", "created_at", "expires_at", "revoked_at")
    search_fields = ("prefix", "name", "user__email")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "created_at",
        "model_group",
        "provider",
        "status",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "latency_ms",
    )
    list_filter = ("status", "provider", "source")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


admin.site.register(RouterSettings)
admin.site.register(Fallback)
admin.site.register(PriceEntry)
