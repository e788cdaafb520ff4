"""django-allauth hooks: decide at every SSO sign-in whether the user gets in.

The decision is made before allauth logs anyone in (``pre_social_login``); the
org chart is updated right after the login (``orgs.sso.receivers``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.shortcuts import render
from django.utils.translation import gettext as _

from orgs.audit import RequestContext, audit_record
from orgs.models import User
from orgs.services import user_deactivate, user_reactivate
from orgs.sso.claims import claims_from_extra_data
from orgs.sso.mapping import mapping_decide
from orgs.sso.sync import sso_denied_record, sso_organization, sso_rules

if TYPE_CHECKING:
    from allauth.socialaccount.models import SocialLogin
    from django.http import HttpRequest

CREATED_FLAG = "_sso_user_created"


def provider_label(sociallogin: SocialLogin) -> str:
    return str(sociallogin.account.provider)


class SocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # Just-in-time accounts for whoever the company IdP vouches for and the rules admit.
        return True

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        claims = claims_from_extra_data(
            sociallogin.account.extra_data or {}, fallback_email=sociallogin.user.email or ""
        )
        organization = sso_organization()
        decision = mapping_decide(sso_rules(organization), claims)
        user: User | None = (
            sociallogin.user
            if sociallogin.is_existing
            else User.objects.filter(email=claims.email).first()
            if claims.email
            else None
        )
        provider = provider_label(sociallogin)
        context = RequestContext.from_request(request)
        if not decision.allowed:
            self._deny(
                request,
                user=user,
                email=claims.email,
                provider=provider,
                message=decision.problem,
                lock_out=True,
                context=context,
            )
        if user is not None and not user.is_active:
            if user.deactivated_reason == User.Deactivation.SSO:
                user_reactivate(user=user, context=context)
            else:
                self._deny(
                    request,
                    user=user,
                    email=claims.email,
                    provider=provider,
                    message=_("This account has been deactivated by an administrator."),
                    lock_out=False,
                    context=context,
                )

    def _deny(
        self,
        request: HttpRequest,
        *,
        user: User | None,
        email: str,
        provider: str,
        message: str,
        lock_out: bool,
        context: RequestContext,
    ) -> None:
        sso_denied_record(user=user, email=email, provider=provider, message=message)
        audit_record(
            actor=user,
            actor_email=email,
            action="auth.sso_denied",
            details={"provider": provider, "reason": message},
            context=context,
        )
        if lock_out and user is not None and user.is_active:
            # Losing the required group at the IdP ends access everywhere, sessions included.
            user_deactivate(user=user, reason=User.Deactivation.SSO, context=context)
        response = render(request, "orgs/sso_denied.html", {"problem": message}, status=403)
        raise ImmediateHttpResponse(response)

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> User:
        user: User = super().save_user(request, sociallogin, form)
        setattr(request, CREATED_FLAG, True)
        return user

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: Any) -> User:
        user: User = super().populate_user(request, sociallogin, data)
        claims = claims_from_extra_data(
            sociallogin.account.extra_data or {}, fallback_email=sociallogin.user.email or ""
        )
        user.email = (user.email or claims.email).lower()
        user.name = claims.name or user.name
        return user
