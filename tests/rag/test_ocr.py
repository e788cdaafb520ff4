"""OCR of images and scanned PDF pages, and what happens without tesseract."""

from __future__ import annotations

import shutil
from collections.abc import Callable

import pytest

from rag.errors import OcrUnavailable
from rag.ingestion.parsers import ParsedDocument, ParseLimits, parse_document
from rag.ingestion.parsers.ocr import drop_fragment_lines, ocr_available
from tests.rag.documents import image_pdf, merged_pdf

# Character error rate allowed against the ground truth (whitespace collapsed).
MAX_CER = 0.10


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def character_error_rate(recognised: str, truth: str) -> float:
    recognised, truth = " ".join(recognised.split()), " ".join(truth.split())
    return edit_distance(recognised, truth) / len(truth)


def ocr_text(parsed: ParsedDocument) -> str:
    return "\n".join(block.text for block in parsed.blocks)


@pytest.fixture
def no_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which

    def which(name: str, *args: object, **kwargs: object) -> str | None:
        return None if name == "tesseract" else real_which(name)

    monkeypatch.setattr(shutil, "which", which)


def test_edit_distance() -> None:
    assert edit_distance("휴가 규정", "휴가 규정") == 0
    assert edit_distance("휴가 규정", "휴가규정") == 1
    assert edit_distance("", "abc") == 3


@pytest.mark.usefixtures("require_tesseract")
def test_scanned_image_is_read_by_ocr(sample: Callable[[str], bytes], limits: ParseLimits) -> None:
    # given
    truth = sample("korean_scan.gt.txt").decode("utf-8")

    # when
    parsed = parse_document(sample("korean_scan.png"), "korean_scan.png", limits)

    # then
    assert parsed.ocr_used
    assert parsed.page_count == 1
    assert {block.page for block in parsed.blocks} == {1}
    assert character_error_rate(ocr_text(parsed), truth) < MAX_CER


@pytest.mark.usefixtures("require_tesseract")
def test_scanned_pdf_page_is_read_by_ocr(
    sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # given: page 1 has a text layer, page 2 is the scan as an image only
    truth = sample("korean_scan.gt.txt").decode("utf-8")
    data = merged_pdf(sample("korean.pdf"), image_pdf(sample("korean_scan.png")))

    # when
    parsed = parse_document(data, "mixed.pdf", limits)

    # then
    assert parsed.ocr_used
    assert parsed.page_count == 2
    page_two = "\n".join(block.text for block in parsed.blocks if block.page == 2)
    assert character_error_rate(page_two, truth) < MAX_CER
    assert any(block.kind == "table" and block.page == 1 for block in parsed.blocks)


def test_ocr_is_unavailable_without_tesseract(no_tesseract: None) -> None:
    assert not ocr_available()


@pytest.mark.usefixtures("no_tesseract")
def test_image_without_tesseract_raises_ocr_unavailable(
    sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    with pytest.raises(OcrUnavailable) as raised:
        parse_document(sample("korean_scan.png"), "korean_scan.png", limits)
    assert raised.value.code == "ocr_unavailable"


@pytest.mark.usefixtures("no_tesseract")
def test_scanned_pdf_without_tesseract_raises_ocr_unavailable(
    sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    with pytest.raises(OcrUnavailable):
        parse_document(image_pdf(sample("korean_scan.png")), "scan.pdf", limits)


@pytest.mark.usefixtures("no_tesseract")
def test_partly_scanned_pdf_without_tesseract_keeps_its_text_and_warns(
    sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # given
    data = merged_pdf(sample("korean.pdf"), image_pdf(sample("korean_scan.png")))

    # when
    parsed = parse_document(data, "mixed.pdf", limits)

    # then
    assert not parsed.ocr_used
    assert {block.page for block in parsed.blocks} == {1}
    assert len(parsed.warnings) == 1
    assert "OCR" in parsed.warnings[0]
    assert "2" in parsed.warnings[0]


def test_ocr_switched_off_raises_ocr_unavailable(sample: Callable[[str], bytes]) -> None:
    limits = ParseLimits(max_bytes=10_000_000, max_pages=10, ocr_enabled=False)
    with pytest.raises(OcrUnavailable, match="switched off"):
        parse_document(sample("korean_scan.png"), "korean_scan.png", limits)


def test_fragment_lines_inside_a_taller_line_are_dropped() -> None:
    # given: tesseract's TSV where line 3 is a short strip inside line 2's box
    columns = ["level", "page_num", "block_num", "par_num", "line_num", "word_num"]
    columns += ["left", "top", "width", "height", "conf", "text"]
    header = "\t".join(columns)
    rows = [
        "5\t1\t1\t1\t1\t1\t30\t35\t200\t30\t96\t사내 휴가",
        "5\t1\t2\t1\t1\t1\t33\t155\t600\t30\t93\t미사용 연차는",
        "5\t1\t3\t1\t1\t1\t492\t172\t91\t13\t74\teeT",
        "5\t1\t3\t1\t1\t2\t604\t173\t44\t12\t63\tMe",
        "5\t1\t4\t1\t1\t1\t31\t215\t300\t30\t96\t문의",
    ]
    text = "사내 휴가\n미사용 연차는\n\neeT Me\n\n문의\n"

    # when
    kept = drop_fragment_lines(text, "\n".join([header, *rows]))

    # then
    assert kept.split() == ["사내", "휴가", "미사용", "연차는", "문의"]


@pytest.mark.usefixtures("require_tesseract")
def test_the_ocr_stage_is_announced_for_scans_only(
    sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    import dataclasses

    calls: list[str] = []
    watched = dataclasses.replace(limits, on_ocr=lambda: calls.append("ocr"))
    parse_document(sample("korean.pdf"), "korean.pdf", watched)
    assert calls == []
    parse_document(image_pdf(sample("korean_scan.png")), "scan.pdf", watched)
    assert calls == ["ocr"]
    parse_document(sample("korean_scan.png"), "korean_scan.png", watched)
    assert calls == ["ocr", "ocr"]
