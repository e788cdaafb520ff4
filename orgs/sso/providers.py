"""The configured OpenID Connect providers, from settings and from the admin UI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.core.cache import cache

FORM_ACTION_CACHE_KEY = "sso:form-action-origins"


@dataclass(frozen=True)
class SsoProvider:
    provider_id: str
    name: str
    server_url: str


def sso_provider_list() -> list[SsoProvider]:
    found: list[SsoProvider] = []
    oidc: dict[str, Any] = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {})
    configured: list[dict[str, Any]] = oidc.get("APPS", [])
    for app in configured:
        found.append(
            SsoProvider(app["provider_id"], app["name"], str(app["settings"]["server_url"]))
        )
    for social_app in SocialApp.objects.filter(provider__in=("openid_connect", "saml")):
        app_settings = social_app.settings or {}
        # OIDC apps name the issuer; SAML apps the IdP's single sign-on URL.
        url = app_settings.get("server_url") or (app_settings.get("idp") or {}).get("sso_url", "")
        found.append(
            SsoProvider(social_app.provider_id or str(social_app.pk), social_app.name, str(url))
        )
    return found


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def sso_form_action_origins() -> list[str]:
    """Origins the sign-in form may redirect to (CSP form-action), cached briefly."""
    cached = cache.get(FORM_ACTION_CACHE_KEY)
    if cached is not None:
        return list(cached)
    origins = sorted({o for p in sso_provider_list() if (o := origin_of(p.server_url))})
    cache.set(FORM_ACTION_CACHE_KEY, origins, timeout=60)
    return origins


def sso_provider_cache_clear() -> None:
    cache.delete(FORM_ACTION_CACHE_KEY)
