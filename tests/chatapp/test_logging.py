from __future__ import annotations

import logging

import pytest

from chatapp.logging import RedactSecretsFilter, redact


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("calling with key sk-abcdefghijklmnop1234", "sk-abcdefghijklmnop1234"),
        ("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig", "eyJhbGciOiJSUzI1NiJ9"),
        ("aws key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
        ('{"api_key": "gsk_live_123456789"}', "gsk_live_123456789"),
        ("x-goog-api-key: AIzaSyD-abcdefghijk", "AIzaSyD-abcdefghijk"),
        ("-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----", "MIIEv"),
    ],
)
def test_secrets_are_masked(line: str, secret: str) -> None:
    cleaned = redact(line)
    assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_plain_korean_text_is_left_alone() -> None:
    assert (
        redact("사용자 kim@acme.test 가 로그인했습니다") == "사용자 kim@acme.test 가 로그인했습니다"
    )


def test_the_filter_rewrites_records_and_tracebacks() -> None:
    record = logging.LogRecord(
        "x", logging.WARNING, __file__, 1, "upstream said %s", ("sk-leakedkey12345",), None
    )
    record.exc_text = "Traceback ... Bearer abcdefghijklmnop"
    assert RedactSecretsFilter().filter(record)
    assert "sk-leaked" not in record.getMessage()
    assert "abcdefghijklmnop" not in record.exc_text
