from __future__ import annotations

from django.contrib import admin

from providers.models import Deployment, Fallback, RouterSettings


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("model_name", "provider", "upstream_model", "api_base", "mode", "is_enabled")
    list_filter = ("provider", "mode", "is_enabled", "source")
    search_fields = ("model_name", "upstream_model")
    exclude = ("secrets_ciphertext",)
    readonly_fields = ("api_key_last4", "source", "created_at", "updated_at")


admin.site.register(RouterSettings)
admin.site.register(Fallback)
