"""Files that cannot be indexed fail whole, with a typed error and a stable code."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pypdfium2
import pytest

from rag.errors import (
    CorruptDocument,
    DocumentError,
    DocumentTooLarge,
    PasswordProtected,
    UnsupportedFormat,
)
from rag.ingestion.parsers import ParseLimits, parse_document
from tests.rag.documents import (
    blank_pdf,
    encrypted_pdf,
    hwp_with_password_flag,
    rename_ole_stream,
    zip_bytes,
)

HWP_SAMPLE = "noori-press-release.hwp"


def test_truncated_pdf_is_corrupt(sample: Callable[[str], bytes], limits: ParseLimits) -> None:
    # given
    data = sample("korean.pdf")
    truncated = data[: len(data) // 2]

    # when / then
    with pytest.raises(CorruptDocument) as raised:
        parse_document(truncated, "korean.pdf", limits)
    assert raised.value.code == "corrupt_document"


def test_random_bytes_named_docx_are_corrupt(limits: ParseLimits) -> None:
    # given
    data = random.Random(6).randbytes(4096)

    # when / then
    with pytest.raises(CorruptDocument, match=r"\.docx"):
        parse_document(data, "보고서.docx", limits)


def test_truncated_docx_is_corrupt(sample: Callable[[str], bytes], limits: ParseLimits) -> None:
    # given: the ZIP's central directory is cut off
    data = sample("korean.docx")[:20_000]

    # when / then
    with pytest.raises(CorruptDocument):
        parse_document(data, "korean.docx", limits)


def test_hwpx_with_broken_section_xml_is_corrupt(limits: ParseLimits) -> None:
    # given: a well-formed ZIP whose body section is not well-formed XML
    data = zip_bytes(
        {
            "mimetype": b"application/hwp+zip",
            "Contents/section0.xml": b"<hs:sec><hp:p>unclosed",
        }
    )

    # when / then
    with pytest.raises(CorruptDocument):
        parse_document(data, "broken.hwpx", limits)


@pytest.mark.parametrize(
    "name", ["korean.pdf", "korean.docx", "korean.pptx", "korean.xlsx", HWP_SAMPLE]
)
@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.95])
def test_damaged_files_fail_with_a_document_error_only(
    name: str, fraction: float, sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # given: a truncated copy, and a copy with bytes overwritten in the middle
    data = sample(name)
    cut = int(len(data) * fraction)
    damaged = [data[:cut], data[:cut] + bytes(64) + data[cut + 64 :]]

    # when
    outcomes: list[str] = []
    for variant in damaged:
        try:
            parse_document(variant, name, limits)
        except DocumentError as error:
            outcomes.append(f"{error.code}: {error.message}")
        else:
            outcomes.append("read")

    # then: readable, or refused with a specific typed error (any other exception fails)
    assert len(outcomes) == 2
    assert not [outcome for outcome in outcomes if outcome.startswith("document_error")]


def test_old_word_document_is_unsupported(
    sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # given: an OLE file with a WordDocument stream and no HWP FileHeader
    data = rename_ole_stream(sample(HWP_SAMPLE), "FileHeader", "WordDocument")

    # when / then
    with pytest.raises(UnsupportedFormat, match=r"\.doc\b") as raised:
        parse_document(data, "old.doc", limits)
    assert raised.value.code == "unsupported_format"


def test_unknown_ole_file_is_unsupported(
    sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # given: an OLE container that is neither HWP nor Office
    data = rename_ole_stream(sample(HWP_SAMPLE), "FileHeader", "Contents")

    # when / then
    with pytest.raises(UnsupportedFormat):
        parse_document(data, "mystery.hwp", limits)


@pytest.mark.parametrize(
    ("filename", "content"),
    [("photo.gif", b"GIF89a\x01\x00\x01\x00"), ("legacy.xls", b"not really"), ("a.zip", None)],
)
def test_unsupported_types_are_refused(
    filename: str, content: bytes | None, limits: ParseLimits
) -> None:
    # given
    data = content if content is not None else zip_bytes({"notes/readme.txt": b"hello"})

    # when / then
    with pytest.raises(UnsupportedFormat, match="not supported"):
        parse_document(data, filename, limits)


def test_empty_file_is_corrupt(limits: ParseLimits) -> None:
    with pytest.raises(CorruptDocument, match="empty"):
        parse_document(b"", "empty.txt", limits)


def test_binary_named_txt_is_corrupt(limits: ParseLimits) -> None:
    with pytest.raises(CorruptDocument, match="binary"):
        parse_document(b"abc\x00\x01\x02def", "data.txt", limits)


def test_password_protected_pdf(limits: ParseLimits) -> None:
    # given: a PDF that needs the user password "1234" to open
    data = encrypted_pdf("Quarterly figures", user_password="1234", owner_password="owner")
    # The fixture is a real encrypted PDF: with the password it opens and reads.
    with_password = pypdfium2.PdfDocument(data, password="1234")
    assert with_password[0].get_textpage().get_text_range() == "Quarterly figures"
    with_password.close()

    # when / then
    with pytest.raises(PasswordProtected) as raised:
        parse_document(data, "figures.pdf", limits)
    assert raised.value.code == "password_protected"


def test_pdf_with_only_an_owner_password_is_read(limits: ParseLimits) -> None:
    # given: encrypted, but the user password is empty (copying or printing restricted)
    data = encrypted_pdf("Open figures", user_password="", owner_password="owner")

    # when
    parsed = parse_document(data, "figures.pdf", limits)

    # then
    assert [block.text for block in parsed.blocks] == ["Open figures"]


def test_password_protected_hwp(
    sample: Callable[[str], bytes], limits: ParseLimits, tmp_path: Path
) -> None:
    # given: the sample with the FileHeader's password flag set
    data = hwp_with_password_flag(sample(HWP_SAMPLE), tmp_path)

    # when / then
    with pytest.raises(PasswordProtected):
        parse_document(data, "protected.hwp", limits)


def test_password_protected_hwpx(limits: ParseLimits) -> None:
    # given: an HWPX whose manifest lists encrypted parts
    manifest = (
        b'<odf:manifest xmlns:odf="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        b'<odf:file-entry odf:full-path="Contents/section0.xml">'
        b'<odf:encryption-data odf:checksum-type="SHA1"/></odf:file-entry></odf:manifest>'
    )
    data = zip_bytes(
        {
            "mimetype": b"application/hwp+zip",
            "META-INF/manifest.xml": manifest,
            "Contents/section0.xml": b"\x8f\x01binary",
        }
    )

    # when / then
    with pytest.raises(PasswordProtected):
        parse_document(data, "secret.hwpx", limits)


def test_password_protected_office_file(
    sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # given: Office stores an encrypted .docx/.xlsx as an OLE file with EncryptedPackage
    data = rename_ole_stream(sample(HWP_SAMPLE), "FileHeader", "EncryptedPackage")

    # when / then
    with pytest.raises(PasswordProtected):
        parse_document(data, "salaries.xlsx", limits)


def test_file_over_the_byte_limit(sample: Callable[[str], bytes]) -> None:
    # given
    data = sample("korean.pdf")
    limits = ParseLimits(max_bytes=1000, max_pages=10)

    # when / then
    with pytest.raises(DocumentTooLarge) as raised:
        parse_document(data, "korean.pdf", limits)
    assert (raised.value.unit, raised.value.limit, raised.value.actual) == (
        "bytes",
        1000,
        len(data),
    )
    assert raised.value.code == "document_too_large"


def test_pdf_over_the_page_limit() -> None:
    # given
    data = blank_pdf(pages=3)
    limits = ParseLimits(max_bytes=10_000_000, max_pages=2)

    # when / then
    with pytest.raises(DocumentTooLarge, match="3 pages") as raised:
        parse_document(data, "long.pdf", limits)
    assert (raised.value.unit, raised.value.limit, raised.value.actual) == ("pages", 2, 3)


def test_presentation_over_the_page_limit(sample: Callable[[str], bytes]) -> None:
    limits = ParseLimits(max_bytes=10_000_000, max_pages=0)
    with pytest.raises(DocumentTooLarge, match="slides"):
        parse_document(sample("korean.pptx"), "korean.pptx", limits)


def test_zip_that_unpacks_past_the_limit(sample: Callable[[str], bytes]) -> None:
    # given: a limit on the inflated size below what the DOCX unpacks to
    limits = ParseLimits(max_bytes=10_000_000, max_pages=10, max_unpacked_bytes=10_000)

    # when / then
    with pytest.raises(DocumentTooLarge, match="unpacks"):
        parse_document(sample("korean.docx"), "korean.docx", limits)
