"""Signal receivers of the org layer, connected in OrgsConfig.ready().

Sign-in, sign-out and failed sign-in reach the audit trail here, whatever signed
the user in (the local form through allauth, SSO, the admin): all of them go
through ``django.contrib.auth`` and send its signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from orgs.audit import RequestContext, audit_record
from orgs.models import User
from orgs.selectors import primary_membership

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpRequest

# Where the typed identifier sits in ``credentials``: allauth passes ``email`` (or
# ``username``), django's ModelBackend takes ``username``, a bare form ``login``.
_LOGIN_KEYS = ("email", "login", "username")
_MAX_LOGIN_LENGTH = 254


@receiver(user_logged_in, dispatch_uid="orgs.audit_login")
def audit_login(
    sender: type[AbstractBaseUser],
    request: HttpRequest | None,
    user: AbstractBaseUser,
    **kwargs: Any,
) -> None:
    if not isinstance(user, User):
        return
    membership = primary_membership(user)
    audit_record(
        actor=user,
        action="auth.login",
        target=user,
        department=membership.department if membership is not None else None,
        context=RequestContext.from_request(request),
    )


@receiver(user_logged_out, dispatch_uid="orgs.audit_logout")
def audit_logout(
    sender: type[AbstractBaseUser] | None,
    request: HttpRequest | None,
    user: AbstractBaseUser | AnonymousUser | None,
    **kwargs: Any,
) -> None:
    # Signing out without a session sends the signal with no user: nothing happened.
    if not isinstance(user, User):
        return
    membership = primary_membership(user)
    audit_record(
        actor=user,
        action="auth.logout",
        target=user,
        department=membership.department if membership is not None else None,
        context=RequestContext.from_request(request),
    )


@receiver(user_login_failed, dispatch_uid="orgs.audit_login_failed")
def audit_login_failed(
    sender: str,
    credentials: Mapping[str, Any],
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    """Record the identifier that was tried (never the password). The actor stays
    empty: whoever typed it is not known to be that account's owner."""
    attempted = attempted_login(credentials)
    audit_record(
        actor=None,
        action="auth.login_failed",
        target_repr=attempted,
        details={"login": attempted},
        context=RequestContext.from_request(request),
    )


def attempted_login(credentials: Mapping[str, Any]) -> str:
    """The identifier from ``credentials``, trimmed and cut to an e-mail's length."""
    for key in _LOGIN_KEYS:
        value = credentials.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:_MAX_LOGIN_LENGTH]
    return ""
