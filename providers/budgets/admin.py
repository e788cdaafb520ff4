"""Budgets in the admin site, for platform admins (keys' budgets are set here or with
``create_virtual_key --budget``); every change goes through the audited services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from orgs.models import User
from providers.budgets.models import Budget, BudgetAlert
from providers.budgets.services import budget_create, budget_delete, budget_update


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "scope",
        "department",
        "user",
        "virtual_key",
        "period",
        "limit_usd",
        "enforcement",
    )
    list_filter = ("scope", "period", "enforcement")
    raw_id_fields = ("department", "user", "virtual_key")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    exclude = ("created_by",)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor = request.user if isinstance(request.user, User) else None
        if change:
            budget_update(
                budget=obj,
                limit_usd=obj.limit_usd,
                enforcement=obj.enforcement,
                webhook_url=obj.webhook_url,
                actor=actor,
            )
            return
        created = budget_create(
            organization=obj.organization,
            scope=obj.scope,
            period=obj.period,
            limit_usd=obj.limit_usd,
            enforcement=obj.enforcement,
            department=obj.department,
            user=obj.user,
            virtual_key=obj.virtual_key,
            webhook_url=obj.webhook_url,
            actor=actor,
        )
        obj.pk = created.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        budget_delete(budget=obj, actor=request.user if isinstance(request.user, User) else None)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for budget in queryset:
            self.delete_model(request, budget)


@admin.register(BudgetAlert)
class BudgetAlertAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("budget", "window_start", "threshold", "spent_usd", "created_at")
    readonly_fields = (
        "budget",
        "window_start",
        "threshold",
        "spent_usd",
        "created_at",
        "emailed_to",
        "webhook_status",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
