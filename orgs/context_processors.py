"""Navigation flags for the page header."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgs.permissions import is_platform_admin, managed_departments, usage_departments

if TYPE_CHECKING:
    from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {
        "nav_members": managed_departments(user).exists(),
        "nav_usage": usage_departments(user).exists(),
        "nav_platform_admin": is_platform_admin(user),
    }
