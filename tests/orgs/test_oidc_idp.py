"""The test IdP (tests/oidc_idp.py) does what company sign-in needs from the real one.

Plain HTTP with httpx, no browser and no database: discovery, authorization code with
PKCE (S256), the login form, the token endpoint with client_secret_basic, and ID token
signatures checked against the provider's JWKS.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import jwt
import pytest

from tests.oidc_idp import UNSERVED_CALLBACK, IdPFactory, TestIdP

SCOPE = "openid email profile groups department roles"
KIM = {
    "email": "kim@acme.test",
    "email_verified": True,
    "name": "김민수",
    "groups": ["ai-users", "hr"],
    "department": "HR",
    "roles": ["member"],
}


@dataclass
class AuthRequest:
    url: str
    state: str
    nonce: str
    verifier: str


def authorization_request(
    idp: TestIdP, *, scope: str = SCOPE, pkce: bool = True, **extra: str
) -> AuthRequest:
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    verifier = secrets.token_urlsafe(48)
    params = {
        "response_type": "code",
        "client_id": idp.client_id,
        "redirect_uri": UNSERVED_CALLBACK,
        "scope": scope,
        "state": state,
        "nonce": nonce,
    }
    if pkce:
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        params["code_challenge"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        params["code_challenge_method"] = "S256"
    params.update(extra)
    return AuthRequest(f"{idp.issuer}/auth?{urlencode(params)}", state, nonce, verifier)


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def callback_params(idp: TestIdP, url: str, request: AuthRequest) -> dict[str, str]:
    assert url.startswith(UNSERVED_CALLBACK + "?"), url
    params = query(url)
    assert params["state"] == request.state
    assert params["iss"] == idp.issuer
    return params


def exchange_code(idp: TestIdP, code: str, verifier: str) -> httpx.Response:
    return httpx.post(
        f"{idp.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": UNSERVED_CALLBACK,
            "code_verifier": verifier,
        },
        auth=(idp.client_id, idp.client_secret),
    )


def verified_id_token(idp: TestIdP, id_token: str, nonce: str) -> dict[str, Any]:
    jwks_uri = httpx.get(idp.discovery_url).json()["jwks_uri"]
    key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(id_token)
    claims: dict[str, Any] = jwt.decode(
        id_token, key.key, algorithms=["RS256"], audience=idp.client_id, issuer=idp.issuer
    )
    assert claims["nonce"] == nonce
    return claims


def sign_in_claims(
    idp: TestIdP, account_id: str, *, scope: str = SCOPE, http: httpx.Client | None = None
) -> dict[str, Any]:
    """The whole flow through TestIdP.sign_in; returns the verified ID token's claims."""
    request = authorization_request(idp, scope=scope)
    params = callback_params(idp, idp.sign_in(request.url, account_id, http=http), request)
    token = exchange_code(idp, params["code"], request.verifier)
    assert token.status_code == 200, token.text
    return verified_id_token(idp, token.json()["id_token"], request.nonce)


@pytest.fixture
def statuses() -> list[int]:
    return []


@pytest.fixture
def session(statuses: list[int]) -> Iterator[httpx.Client]:
    """A cookie-keeping client (one user agent) that records every status code it receives."""

    def record(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    with httpx.Client(timeout=10, event_hooks={"response": [record]}) as client:
        yield client


def test_discovery_advertises_pkce_scopes_and_claims(oidc_idp: TestIdP) -> None:
    config = httpx.get(oidc_idp.discovery_url).json()

    assert config["issuer"] == oidc_idp.issuer
    assert config["authorization_endpoint"] == f"{oidc_idp.issuer}/auth"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["response_types_supported"] == ["code"]
    assert config["token_endpoint_auth_methods_supported"] == ["client_secret_basic"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"openid", "email", "profile", "groups", "department", "roles"} <= set(
        config["scopes_supported"]
    )
    assert {"email", "email_verified", "name", "groups", "department", "roles"} <= set(
        config["claims_supported"]
    )
    keys = httpx.get(config["jwks_uri"]).json()["keys"]
    assert [(k["kty"], k["alg"], k["use"]) for k in keys] == [("RSA", "RS256", "sig")]
    assert all("d" not in k for k in keys)  # public half only


def test_code_flow_with_pkce_through_the_login_form(
    oidc_idp: TestIdP, session: httpx.Client, statuses: list[int]
) -> None:
    oidc_idp.set_account("kim", **KIM)
    request = authorization_request(oidc_idp)

    response = session.get(request.url)
    assert response.status_code == 303
    interaction = urljoin(request.url, response.headers["location"])
    assert urlsplit(interaction).path.startswith("/interaction/")

    form = session.get(interaction)
    assert form.status_code == 200
    assert "<title>Sign-in</title>" in form.text
    assert 'name="login"' in form.text
    assert 'name="password"' in form.text

    response = session.post(interaction, data={"prompt": "login", "login": "kim", "password": "x"})
    hops = 0
    while not response.headers["location"].startswith(UNSERVED_CALLBACK):
        assert response.status_code in (302, 303), response.text  # no consent page
        response = session.get(urljoin(oidc_idp.issuer, response.headers["location"]))
        hops += 1
        assert hops < 5
    params = callback_params(oidc_idp, response.headers["location"], request)

    token = exchange_code(oidc_idp, params["code"], request.verifier)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer"
    claims = verified_id_token(oidc_idp, body["id_token"], request.nonce)
    assert claims["sub"] == "kim"
    assert claims["name"] == "김민수"
    assert claims["email"] == "kim@acme.test"
    assert claims["email_verified"] is True
    assert claims["groups"] == ["ai-users", "hr"]
    assert claims["department"] == "HR"
    assert claims["roles"] == ["member"]

    userinfo = httpx.get(
        f"{oidc_idp.issuer}/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert userinfo["sub"] == "kim"
    assert userinfo["groups"] == ["ai-users", "hr"]
    assert userinfo["name"] == "김민수"

    reused = exchange_code(oidc_idp, params["code"], request.verifier)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert all(status < 500 for status in statuses)


def test_scopes_decide_which_claims_are_released(oidc_idp: TestIdP) -> None:
    oidc_idp.set_account("kim", **KIM)

    claims = sign_in_claims(oidc_idp, "kim", scope="openid email")

    assert claims["email"] == "kim@acme.test"
    assert not {"name", "groups", "department", "roles"} & claims.keys()


def test_changed_claims_reach_the_next_sign_in(oidc_idp: TestIdP, session: httpx.Client) -> None:
    oidc_idp.set_account("kim", **KIM)
    assert sign_in_claims(oidc_idp, "kim", http=session)["groups"] == ["ai-users", "hr"]

    oidc_idp.set_account("kim", **{**KIM, "groups": ["ai-users", "finance"], "department": "FIN"})
    fresh = sign_in_claims(oidc_idp, "kim")
    assert fresh["groups"] == ["ai-users", "finance"]
    assert fresh["department"] == "FIN"

    # An IdP session that is still open (single sign-on, no login form) sees the change too.
    oidc_idp.update_account("kim", groups=[])
    assert sign_in_claims(oidc_idp, "kim", http=session)["groups"] == []


def test_pkce_is_required(oidc_idp: TestIdP, session: httpx.Client) -> None:
    oidc_idp.set_account("kim", **KIM)

    request = authorization_request(oidc_idp, pkce=False)
    response = session.get(request.url)
    assert response.is_redirect
    params = callback_params(oidc_idp, response.headers["location"], request)
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]
    assert "code" not in params

    plain = authorization_request(oidc_idp, code_challenge="x" * 43, code_challenge_method="plain")
    params = callback_params(oidc_idp, session.get(plain.url).headers["location"], plain)
    assert params["error"] == "invalid_request"


def test_wrong_code_verifier_or_secret_is_refused(oidc_idp: TestIdP) -> None:
    oidc_idp.set_account("kim", **KIM)
    request = authorization_request(oidc_idp)
    code = callback_params(oidc_idp, oidc_idp.sign_in(request.url, "kim"), request)["code"]

    wrong_verifier = exchange_code(oidc_idp, code, secrets.token_urlsafe(48))
    assert wrong_verifier.status_code == 400
    assert wrong_verifier.json()["error"] == "invalid_grant"

    request = authorization_request(oidc_idp)
    code = callback_params(oidc_idp, oidc_idp.sign_in(request.url, "kim"), request)["code"]
    wrong_secret = httpx.post(
        f"{oidc_idp.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": UNSERVED_CALLBACK,
            "code_verifier": request.verifier,
        },
        auth=(oidc_idp.client_id, "not-the-secret"),
    )
    assert wrong_secret.status_code == 401
    assert wrong_secret.json()["error"] == "invalid_client"


def test_unknown_account_is_denied_without_a_server_error(
    oidc_idp: TestIdP, session: httpx.Client, statuses: list[int]
) -> None:
    oidc_idp.remove_account("nobody")
    request = authorization_request(oidc_idp)

    params = callback_params(
        oidc_idp, oidc_idp.sign_in(request.url, "nobody", http=session), request
    )

    assert params["error"] == "access_denied"
    assert params["error_description"] == "unknown user"
    assert "code" not in params
    assert statuses
    assert all(status < 500 for status in statuses), statuses


def test_removed_account_with_an_open_session_must_sign_in_again(
    oidc_idp: TestIdP, session: httpx.Client, statuses: list[int]
) -> None:
    oidc_idp.set_account("leaver", email="leaver@acme.test", name="퇴사자", groups=["ai-users"])
    assert sign_in_claims(oidc_idp, "leaver", http=session)["sub"] == "leaver"

    oidc_idp.remove_account("leaver")
    request = authorization_request(oidc_idp)
    response = session.get(request.url)
    assert response.status_code == 303
    assert (
        "<title>Sign-in</title>"
        in session.get(urljoin(request.url, response.headers["location"])).text
    )

    params = callback_params(
        oidc_idp, oidc_idp.sign_in(request.url, "leaver", http=session), request
    )
    assert params["error"] == "access_denied"
    assert all(status < 500 for status in statuses), statuses


def test_group_overage_markers_pass_through_into_the_id_token(oidc_idp: TestIdP) -> None:
    """Microsoft Entra leaves out `groups` for members of too many groups and points elsewhere."""
    overage = {
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {
            "src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/lee/getMemberObjects"}
        },
    }
    oidc_idp.set_account(
        "lee",
        email="lee@acme.test",
        name="이서연",
        department="ENG",
        tid="acme-tenant",
        **overage,
    )

    claims = sign_in_claims(oidc_idp, "lee")
    assert "groups" not in claims
    assert claims["_claim_names"] == overage["_claim_names"]
    assert claims["_claim_sources"] == overage["_claim_sources"]
    assert claims["tid"] == "acme-tenant"
    assert claims["department"] == "ENG"

    # Also when the relying party did not ask for the groups scope.
    assert sign_in_claims(oidc_idp, "lee", scope="openid email")["_claim_names"] == {
        "groups": "src1"
    }


def test_factory_gives_one_provider_per_set_of_redirect_uris(
    oidc_idp_factory: IdPFactory, oidc_idp: TestIdP
) -> None:
    assert oidc_idp_factory([UNSERVED_CALLBACK]) is oidc_idp

    other_callback = "http://127.0.0.1:1/other/callback"
    other = oidc_idp_factory([other_callback])
    assert other is not oidc_idp
    assert other.issuer != oidc_idp.issuer
    assert oidc_idp_factory((other_callback,)) is other

    # The client accepts only its own redirect URIs: a foreign one gets an error page, no redirect.
    request = authorization_request(other)
    response = httpx.get(request.url)
    assert response.status_code == 400
    assert "location" not in response.headers
