"""SigV4 signing against AWS's published examples.

Vectors (all with access key ``AKIDEXAMPLE``, secret
``wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`` and time 2015-08-30T12:36:00Z):

* ``get-vanilla``, ``post-vanilla`` and ``post-sts-token/post-sts-header-before``
  from the "Signature Version 4 test suite" of the AWS General Reference
  (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html),
  region us-east-1, service ``service``;
* the IAM ``ListUsers`` GET walked through in the AWS General Reference
  "Signature Version 4 signing process" (Tasks 1-4: canonical request,
  string to sign, signing key, signature), region us-east-1, service ``iam``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from providers.adapters.bedrock.sigv4 import (
    AwsCredentials,
    canonical_request,
    canonical_uri,
    credential_scope,
    sign_headers,
    signing_key,
    string_to_sign,
)

SUITE_TIME = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)
SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
EXAMPLE_CREDENTIALS = AwsCredentials(access_key_id="AKIDEXAMPLE", secret_access_key=SUITE_SECRET)
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
# The session token the test suite's post-sts-token cases use.
SUITE_SESSION_TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmx"
    "fpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPky"
    "QDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz"
    "+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
)


def suite_sign(method: str, credentials: AwsCredentials = EXAMPLE_CREDENTIALS) -> dict[str, str]:
    return sign_headers(
        method=method,
        url="https://example.amazonaws.com/",
        headers={},
        body=b"",
        credentials=credentials,
        region="us-east-1",
        service="service",
        now=SUITE_TIME,
        include_content_sha256=False,
    )


def test_get_vanilla_canonical_request_and_string_to_sign() -> None:
    # given the test suite's get-vanilla request
    headers = {"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"}
    # when
    canonical, signed = canonical_request(
        method="GET",
        url="https://example.amazonaws.com/",
        headers=headers,
        payload_hash=EMPTY_SHA256,
    )
    sts = string_to_sign(
        amz_date="20150830T123600Z",
        scope=credential_scope("20150830", "us-east-1", "service"),
        canonical=canonical,
    )
    # then both match get-vanilla.creq and get-vanilla.sts
    assert canonical == (
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
        f"host;x-amz-date\n{EMPTY_SHA256}"
    )
    assert signed == "host;x-amz-date"
    assert sts == (
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    )


@pytest.mark.parametrize(
    ("method", "signature"),
    [
        ("GET", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("POST", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ],
)
def test_vanilla_requests_get_the_published_authorization(method: str, signature: str) -> None:
    # when get-vanilla / post-vanilla are signed
    headers = suite_sign(method)
    # then the Authorization header is the one in their .authz files
    assert headers == {
        "X-Amz-Date": "20150830T123600Z",
        "Authorization": (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            f"SignedHeaders=host;x-amz-date, Signature={signature}"
        ),
    }


def test_session_token_is_sent_and_signed_like_post_sts_header_before() -> None:
    # given temporary credentials
    credentials = AwsCredentials("AKIDEXAMPLE", SUITE_SECRET, session_token=SUITE_SESSION_TOKEN)
    # when
    headers = suite_sign("POST", credentials)
    # then the token is a signed header, as in post-sts-header-before.authz
    assert headers["X-Amz-Security-Token"] == SUITE_SESSION_TOKEN
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-security-token, "
        "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
    )


def test_iam_list_users_example_end_to_end() -> None:
    # given the General Reference's IAM ListUsers request
    url = "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"
    content_type = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    # when
    canonical, _ = canonical_request(
        method="GET",
        url=url,
        headers={**content_type, "Host": "iam.amazonaws.com", "X-Amz-Date": "20150830T123600Z"},
        payload_hash=EMPTY_SHA256,
    )
    headers = sign_headers(
        method="GET",
        url=url,
        headers=content_type,
        body=b"",
        credentials=EXAMPLE_CREDENTIALS,
        region="us-east-1",
        service="iam",
        now=SUITE_TIME,
        include_content_sha256=False,
    )
    # then each published intermediate value matches
    assert hashlib.sha256(canonical.encode()).hexdigest() == (
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    )
    assert signing_key(SUITE_SECRET, "20150830", "us-east-1", "iam").hex() == (
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    )
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )


def test_bedrock_model_id_is_encoded_twice_in_the_canonical_uri() -> None:
    # given the path as sent, where the model id's ':' is already %3A
    path = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    # when / then non-S3 services sign each segment encoded once more
    assert canonical_uri(path) == "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse"
    assert canonical_uri("") == "/"


def test_body_hash_is_sent_and_signed_by_default() -> None:
    # given a JSON body and a port that is not the scheme's default
    body = b'{"messages":[]}'
    # when
    headers = sign_headers(
        method="POST",
        url="http://127.0.0.1:8123/model/m/converse",
        headers={"Content-Type": "application/json", "Content-Length": "15"},
        body=body,
        credentials=EXAMPLE_CREDENTIALS,
        region="ap-northeast-2",
        service="bedrock",
        now=SUITE_TIME,
    )
    # then the payload hash is a header, signed with content-type and host (not length)
    assert headers["X-Amz-Content-Sha256"] == hashlib.sha256(body).hexdigest()
    assert (
        "Credential=AKIDEXAMPLE/20150830/ap-northeast-2/bedrock/aws4_request"
        in (headers["Authorization"])
    )
    assert (
        "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date,"
        in (headers["Authorization"])
    )


def test_signing_is_a_pure_function_of_its_inputs() -> None:
    # when the same request is signed twice at one instant, and once a second later
    first = suite_sign("GET")
    again = suite_sign("GET")
    later = sign_headers(
        method="GET",
        url="https://example.amazonaws.com/",
        headers={},
        body=b"",
        credentials=EXAMPLE_CREDENTIALS,
        region="us-east-1",
        service="service",
        now=datetime(2015, 8, 30, 12, 36, 1, tzinfo=UTC),
        include_content_sha256=False,
    )
    # then only the clock changes the signature
    assert first == again
    assert later["Authorization"] != first["Authorization"]


def test_credentials_repr_hides_the_secrets() -> None:
    credentials = AwsCredentials("AKIDEXAMPLE", SUITE_SECRET, session_token=SUITE_SESSION_TOKEN)
    assert SUITE_SECRET not in repr(credentials)
    assert SUITE_SESSION_TOKEN not in repr(credentials)
