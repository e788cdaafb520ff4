"""The unread-notice count shown in the page header."""

from __future__ import annotations

from django.http import HttpRequest

from providers.budgets.models import Notice


def notices(request: HttpRequest) -> dict[str, int]:
    user = request.user
    if not user.is_authenticated:
        return {}
    return {"unread_notices": Notice.objects.filter(recipient=user, read_at__isnull=True).count()}
