"""Vertex AI: URLs, and the service-account → access-token exchange (``authorize``)
against an in-process token endpoint (httpx.MockTransport). No network."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from providers.adapters.base import HttpCall
from providers.adapters.gemini import VertexAdapter
from providers.adapters.gemini.vertex_auth import (
    AccessTokenCache,
    ServiceAccount,
    service_account,
    signed_assertion,
)
from providers.errors import ConfigError, ProviderError
from providers.types import ChatMessage, ChatRequest, DeploymentTarget, EmbeddingRequest, Usage
from tests import aio
from tests.fake_upstream.gemini_format import new_service_account

SAMPLES = Path(__file__).parent / "samples"
TOKEN_URI = "https://oauth2.example.test/token"
CALL = HttpCall(url="https://vertex.test/x", headers={"Content-Type": "application/json"}, body=b"")


def ask(text: str = "hi") -> ChatRequest:
    return ChatRequest(model="vx", messages=[ChatMessage(role="user", content=text)])


def vertex_target(**fields: Any) -> DeploymentTarget:
    fields.setdefault("params", {"vertex_project": "acme-ai", "vertex_location": "us-central1"})
    account = {"type": "service_account", "client_email": "a@b", "private_key": "k"}
    fields.setdefault("credentials", {"vertex_credentials": json.dumps(account)})
    fields.setdefault("api_base", "")
    return DeploymentTarget(
        deployment_id=9, provider="vertex_ai", upstream_model="gemini-2.5-pro", **fields
    )


@dataclass
class TokenEndpoint:
    """Google's token endpoint in miniature: verifies the assertion, grants a token."""

    public_pem: str
    expires_in: int = 3600
    status: int = 200
    grants: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)  # let concurrent callers pile up
        form = parse_qs(request.content.decode())
        assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
        claims = jwt.decode(
            form["assertion"][0],
            self.public_pem,
            algorithms=["RS256"],
            audience=TOKEN_URI,
            leeway=7200,  # tests move the adapter's clock up to two hours ahead
        )
        self.grants.append(claims)
        if self.status != 200:
            body = {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            return httpx.Response(self.status, json=body)
        return httpx.Response(
            200,
            json={
                "access_token": f"ya29.token-{len(self.grants)}",
                "expires_in": self.expires_in,
                "token_type": "Bearer",
            },
        )


@pytest.fixture(scope="module")
def key_file() -> tuple[dict[str, str], str]:
    return new_service_account(TOKEN_URI, project_id="acme-ai")


def client_for(endpoint: TokenEndpoint) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(endpoint))


class Clock:
    """Wall time from the test's start, moved by the test (the fake endpoint checks exp)."""

    def __init__(self) -> None:
        self.start = self.now = time.time()

    def __call__(self) -> float:
        return self.now


# --- urls -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("location", "host"),
    [
        ("us-central1", "us-central1-aiplatform.googleapis.com"),
        ("global", "aiplatform.googleapis.com"),
    ],
)
def test_vertex_urls_by_location(location: str, host: str) -> None:
    # given
    target = vertex_target(params={"vertex_project": "acme-ai", "vertex_location": location})
    # when
    call = VertexAdapter().build_chat_call(target, ask(), stream=True)
    # then no key header: the token is added by authorize
    assert call.url == (
        f"https://{host}/v1/projects/acme-ai/locations/{location}"
        "/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    )
    assert "x-goog-api-key" not in call.headers
    assert "Authorization" not in call.headers


def test_vertex_project_defaults_to_the_service_account_and_location_to_us_central1() -> None:
    # given credentials naming a project and no vertex_* params
    account = json.dumps(
        {
            "type": "service_account",
            "project_id": "from-sa",
            "client_email": "a@b",
            "private_key": "k",
        }
    )
    target = vertex_target(params={}, credentials={"vertex_credentials": account})
    # when
    url = VertexAdapter().build_chat_call(target, ask(), stream=False).url
    # then
    assert "/projects/from-sa/locations/us-central1/" in url


def test_vertex_without_a_project_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="vertex_project"):
        VertexAdapter().build_chat_call(vertex_target(params={}), ask(), stream=False)


def test_vertex_api_base_and_express_mode() -> None:
    # given a proxy base, and a deployment with only an API key
    proxied = vertex_target(api_base="http://127.0.0.1:8080")
    express = vertex_target(credentials={}, api_key="vx-key", params={})
    # when
    proxied_url = VertexAdapter().build_chat_call(proxied, ask(), stream=False).url
    express_call = VertexAdapter().build_chat_call(express, ask(), stream=False)
    # then
    assert proxied_url.startswith("http://127.0.0.1:8080/v1/projects/acme-ai/locations/")
    assert express_call.url == (
        "https://aiplatform.googleapis.com/v1/publishers/google/models/gemini-2.5-pro:generateContent"
    )
    assert express_call.headers["x-goog-api-key"] == "vx-key"


def test_vertex_embeddings_use_predict() -> None:
    # given
    target = vertex_target()
    request = EmbeddingRequest(model="emb", inputs=["하나", "둘"], dimensions=256)
    # when
    call = VertexAdapter().build_embed_call(target, request)
    response = VertexAdapter().parse_embed_response(
        (SAMPLES / "gemini_vertex_predict_response.json").read_bytes(),
        request=request,
        target=target,
    )
    # then
    assert call.url.endswith("/publishers/google/models/gemini-2.5-pro:predict")
    assert json.loads(call.body) == {
        "instances": [{"content": "하나"}, {"content": "둘"}],
        "parameters": {"outputDimensionality": 256},
    }
    assert response.vectors[1] == [-0.0104283, 0.0244911, 0.0021843]
    assert response.usage == Usage(prompt_tokens=10)


# --- the service account --------------------------------------------------------------


def test_credentials_may_be_the_json_or_a_path_to_it(
    key_file: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    # given the same key file inline and on disk
    info, _ = key_file
    path = tmp_path / "sa.json"
    path.write_text(json.dumps(info))
    # when
    inline, from_file = service_account(json.dumps(info)), service_account(str(path))
    # then
    assert inline == from_file
    assert inline.client_email == info["client_email"]
    assert inline.token_uri == TOKEN_URI
    assert inline.project_id == "acme-ai"
    assert "PRIVATE KEY" not in repr(inline)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("/nonexistent/sa.json", "readable file"),
        ("{not json", "not valid JSON"),
        ('{"type": "authorized_user", "client_email": "a", "private_key": "k"}', "service-account"),
        ('{"type": "service_account", "client_email": "a@b"}', "private_key"),
    ],
)
def test_unusable_credentials_are_config_errors(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        service_account(raw)


def test_the_assertion_is_an_rs256_jwt_for_the_token_endpoint(
    key_file: tuple[dict[str, str], str],
) -> None:
    # given
    info, public_pem = key_file
    account = service_account(json.dumps(info))
    # when
    now = time.time()
    assertion = signed_assertion(account, now=now)
    # then
    header = jwt.get_unverified_header(assertion)
    claims = jwt.decode(assertion, public_pem, algorithms=["RS256"], audience=TOKEN_URI)
    assert header["alg"] == "RS256"
    assert header["kid"] == info["private_key_id"]
    assert claims["iss"] == info["client_email"]
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    assert claims["iat"] == int(now)
    assert claims["exp"] == claims["iat"] + 3600


def test_a_broken_private_key_is_a_config_error_that_does_not_echo_it() -> None:
    account = ServiceAccount(client_email="a@b", private_key="-----BEGIN PRIVATE KEY-----\nabc")
    with pytest.raises(ConfigError, match="not a usable RSA key") as caught:
        signed_assertion(account, now=0)
    assert "abc" not in caught.value.message


# --- the token cache ------------------------------------------------------------------


def test_a_token_is_fetched_once_and_reused(key_file: tuple[dict[str, str], str]) -> None:
    # given
    info, public_pem = key_file
    endpoint = TokenEndpoint(public_pem)
    cache, account = AccessTokenCache(), service_account(json.dumps(info))

    async def scenario() -> list[str]:
        async with client_for(endpoint) as client:
            return [await cache.token(account, client) for _ in range(3)]

    # when
    tokens = aio.run(scenario())
    # then
    assert tokens == ["ya29.token-1"] * 3
    assert len(endpoint.grants) == 1


def test_a_token_is_refreshed_when_less_than_five_minutes_remain(
    key_file: tuple[dict[str, str], str],
) -> None:
    # given a token granted for an hour
    info, public_pem = key_file
    endpoint, clock = TokenEndpoint(public_pem), Clock()
    cache, account = AccessTokenCache(clock=clock), service_account(json.dumps(info))

    async def token_at(offset: float) -> str:
        clock.now = clock.start + offset
        async with client_for(endpoint) as client:
            return await cache.token(account, client)

    # when / then: reused with ten minutes left, refreshed with under five
    assert aio.run(token_at(0)) == "ya29.token-1"
    assert aio.run(token_at(3000)) == "ya29.token-1"
    assert aio.run(token_at(3301)) == "ya29.token-2"
    assert aio.run(token_at(3400)) == "ya29.token-2"
    assert len(endpoint.grants) == 2


def test_concurrent_requests_share_one_token_request(
    key_file: tuple[dict[str, str], str],
) -> None:
    # given
    info, public_pem = key_file
    endpoint = TokenEndpoint(public_pem)
    cache, account = AccessTokenCache(), service_account(json.dumps(info))

    async def scenario() -> list[str]:
        async with client_for(endpoint) as client:
            return list(await asyncio.gather(*(cache.token(account, client) for _ in range(8))))

    # when
    tokens = aio.run(scenario())
    # then
    assert set(tokens) == {"ya29.token-1"}
    assert len(endpoint.grants) == 1


@pytest.mark.parametrize(("status", "retryable"), [(401, False), (403, False), (503, True)])
def test_token_endpoint_failures_are_provider_errors_without_secrets(
    key_file: tuple[dict[str, str], str], status: int, retryable: bool
) -> None:
    # given an endpoint refusing the grant
    info, public_pem = key_file
    endpoint = TokenEndpoint(public_pem, status=status)
    account = service_account(json.dumps(info))

    async def scenario() -> str:
        async with client_for(endpoint) as client:
            return await AccessTokenCache().token(account, client)

    # when
    with pytest.raises(ProviderError, match="invalid_grant") as caught:
        aio.run(scenario())
    # then
    assert caught.value.status == status
    assert caught.value.retryable is retryable
    assert "PRIVATE KEY" not in caught.value.message
    assert "eyJ" not in caught.value.message  # no assertion (JWT) either


def test_an_unreachable_token_endpoint_is_retryable(key_file: tuple[dict[str, str], str]) -> None:
    info, _ = key_file

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def scenario() -> str:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            return await AccessTokenCache().token(service_account(json.dumps(info)), client)

    with pytest.raises(ProviderError, match="could not be reached") as caught:
        aio.run(scenario())
    assert caught.value.retryable


# --- authorize ------------------------------------------------------------------------


def test_authorize_adds_the_bearer_token(key_file: tuple[dict[str, str], str]) -> None:
    # given
    info, public_pem = key_file
    endpoint = TokenEndpoint(public_pem)
    target = vertex_target(credentials={"vertex_credentials": json.dumps(info)})
    adapter = VertexAdapter()

    async def scenario() -> list[HttpCall]:
        async with client_for(endpoint) as client:
            return [await adapter.authorize(CALL, target, client) for _ in range(2)]

    # when
    calls = aio.run(scenario())
    # then
    assert [c.headers["Authorization"] for c in calls] == ["Bearer ya29.token-1"] * 2
    assert calls[0].headers["Content-Type"] == "application/json"
    assert len(endpoint.grants) == 1


def test_authorize_without_credentials() -> None:
    # given an express-mode deployment (API key only) and one with nothing
    express = vertex_target(credentials={}, api_key="vx-key")
    bare = vertex_target(credentials={})

    async def scenario(target: DeploymentTarget) -> HttpCall:
        async with httpx.AsyncClient() as client:
            return await VertexAdapter().authorize(CALL, target, client)

    # when / then
    assert aio.run(scenario(express)) == CALL
    with pytest.raises(ConfigError, match="vertex_credentials"):
        aio.run(scenario(bare))
