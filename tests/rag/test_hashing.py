"""Duplicate uploads are recognised by the hash of their bytes."""

from __future__ import annotations

from collections.abc import Callable

from rag.ingestion.hashing import content_hash


def test_content_hash_is_sha256_hex() -> None:
    assert content_hash(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_same_bytes_same_hash_whatever_the_name(sample: Callable[[str], bytes]) -> None:
    # given: the same file uploaded twice
    first, second = sample("korean.pdf"), bytes(sample("korean.pdf"))

    # then
    assert content_hash(first) == content_hash(second)
    assert content_hash(first) != content_hash(sample("korean.docx"))
    assert content_hash(first) != content_hash(first + b"\n")
