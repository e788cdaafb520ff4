"""SAML 2.0 sign-in is wired: metadata for the IdP, the redirect, claims from attributes."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.models import SocialApp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.test import Client

from orgs.models import ClaimMappingRule
from orgs.sso.claims import claims_from_extra_data
from orgs.sso.mapping import mapping_decide
from tests.personas import Personas


def self_signed_certificate() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.acme.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode().splitlines()[1:-1])


@pytest.fixture
def saml_app(db: None) -> SocialApp:
    return SocialApp.objects.create(
        provider="saml",
        provider_id="acme",
        name="ACME SAML",
        client_id="acme",
        settings={
            "idp": {
                "entity_id": "https://idp.acme.test/metadata",
                "sso_url": "https://idp.acme.test/sso",
                "x509cert": self_signed_certificate(),
            },
            "attribute_mapping": {"uid": "uid", "email": "email", "name": "displayName"},
        },
    )


@pytest.fixture
def client() -> Client:
    # The SAML toolkit refuses service provider URLs on hosts without a domain ("testserver").
    return Client(SERVER_NAME="localhost", HTTP_HOST="localhost")


def test_metadata_describes_our_service_provider(client: Client, saml_app: SocialApp) -> None:
    response = client.get("/accounts/saml/acme/metadata/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "EntityDescriptor" in body
    assert "/accounts/saml/acme/acs/" in body


def test_sign_in_page_offers_saml_and_allows_the_redirect(
    client: Client, saml_app: SocialApp
) -> None:
    page = client.get("/accounts/login/")
    assert "ACME SAML" in page.content.decode()
    assert "https://idp.acme.test" in page["Content-Security-Policy"]
    response = client.post("/accounts/saml/acme/login/")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://idp.acme.test/sso"
    assert "SAMLRequest" in parse_qs(location.query)


def test_saml_attributes_feed_the_same_mapping(personas: Personas) -> None:
    rules = [
        ClaimMappingRule.objects.create(
            organization=personas.org,
            position=1,
            claim="memberOf",
            value="ai-users",
            action="require",
        ),
        ClaimMappingRule.objects.create(
            organization=personas.org,
            position=2,
            claim="department",
            value="*",
            action="department_from_claim",
        ),
    ]
    attributes = {"memberOf": ["ai-users", "hr"], "department": ["HR"], "displayName": ["김민수"]}
    claims = claims_from_extra_data(attributes, fallback_email="kim@acme.test")
    decision = mapping_decide(rules, claims)
    assert claims.email == "kim@acme.test"
    assert claims.name == "김민수"
    assert decision.allowed
    assert decision.department_code == "HR"
