"""django-allauth adapter: accounts come from the org chart or the IdP, not open sign-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

if TYPE_CHECKING:
    from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def is_local_login_enabled(self) -> bool:
        return bool(settings.LOCAL_LOGIN_ENABLED)
