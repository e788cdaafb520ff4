from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from orgs.models import Department, Group, Membership, Organization, SsoSync, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):  # type: ignore[type-arg]
    ordering = ("email",)
    list_display = ("email", "name", "is_active", "is_staff", "date_joined")
    search_fields = ("email", "name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("name",)}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("slug", "name")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-mostly: the tree changes through the org chart import or the members pages,
    whose services keep paths, history and the audit trail consistent."""

    list_display = ("code", "name", "parent", "organization", "is_active")
    list_filter = ("organization", "is_active")
    search_fields = ("code", "name")
    readonly_fields = ("organization", "code", "parent", "path")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "organization", "managed_by_sso")
    search_fields = ("name",)
    filter_horizontal = ("members",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "department", "roles", "is_primary")
    search_fields = ("user__email", "user__name", "department__code")
    readonly_fields = ("user", "department", "roles", "is_primary")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SsoSync)
class SsoSyncAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "email", "provider", "outcome", "created_user")
    list_filter = ("outcome", "provider")
    search_fields = ("email",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
