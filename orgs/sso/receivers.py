"""After an SSO login: make the org chart follow the IdP's claims."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in
from allauth.socialaccount.models import SocialApp
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orgs.audit import RequestContext
from orgs.models import User
from orgs.sso.adapter import CREATED_FLAG, provider_label
from orgs.sso.claims import claims_from_extra_data
from orgs.sso.mapping import mapping_decide
from orgs.sso.providers import sso_provider_cache_clear
from orgs.sso.sync import sso_organization, sso_rules, sso_sync_apply


@receiver(user_logged_in)
def apply_claims_after_sso_login(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    sociallogin = kwargs.get("sociallogin")
    if sociallogin is None:
        return
    claims = claims_from_extra_data(
        sociallogin.account.extra_data or {}, fallback_email=sociallogin.user.email or ""
    )
    organization = sso_organization()
    rules = sso_rules(organization)
    sso_sync_apply(
        user=user,
        decision=mapping_decide(rules, claims),
        organization=organization,
        rules=rules,
        provider=provider_label(sociallogin),
        email=claims.email or user.email,
        name=claims.name,
        created=bool(getattr(request, CREATED_FLAG, False)),
        context=RequestContext.from_request(request),
    )


@receiver(post_save, sender=SocialApp)
@receiver(post_delete, sender=SocialApp)
def forget_cached_providers(sender: Any, **kwargs: Any) -> None:
    sso_provider_cache_clear()
