"""HTTP middleware of the project."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse


def build_csp_header(policy: dict[str, list[str]]) -> str:
    return "; ".join(f"{directive} {' '.join(sources)}" for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy from settings to every response that lacks one.

    Sign-in pages may also post to the company IdP: its origin is added to
    ``form-action`` there, because browsers apply that directive to the redirect.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.header = build_csp_header(self.policy)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self._header_for(request)
        return response

    def _header_for(self, request: HttpRequest) -> str:
        if not request.path.startswith("/accounts/"):
            return self.header
        from orgs.sso.providers import sso_form_action_origins

        origins = sso_form_action_origins()
        if not origins:
            return self.header
        policy = {**self.policy, "form-action": [*self.policy["form-action"], *origins]}
        return build_csp_header(policy)
