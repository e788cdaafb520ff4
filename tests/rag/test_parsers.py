"""Every format yields the text that shared/samples/README.md says it must."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement

from rag.ingestion.parsers import ParsedDocument, ParseLimits, detect_format, parse_document
from tests.rag.documents import merged_pdf

GENERATED_SENTENCE = "미사용 연차는 다음 해 3월까지 이월할 수 있습니다."
GENERATED_CELLS = ["부여일수", "최대 11일", "2년마다 1일"]
GENERATED_ROW = "| 1년 미만 | 월 1일 | 최대 11일 |"
GENERATED_SAMPLES = [
    "korean.pdf",
    "korean.docx",
    "korean.pptx",
    "korean.xlsx",
    "korean.html",
    "korean.md",
]


def normalised(text: str) -> str:
    return " ".join(text.split())


def all_text(parsed: ParsedDocument) -> str:
    return normalised("\n".join(block.text for block in parsed.blocks))


def table_texts(parsed: ParsedDocument) -> list[str]:
    return [block.text for block in parsed.blocks if block.kind == "table"]


@pytest.mark.parametrize("name", GENERATED_SAMPLES)
def test_generated_sample_yields_sentence_and_cells(
    name: str, sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # given
    data = sample(name)

    # when
    parsed = parse_document(data, name, limits)

    # then: the spreadsheet sample holds only the table
    text = all_text(parsed)
    if name != "korean.xlsx":
        assert GENERATED_SENTENCE in text
    for cell in GENERATED_CELLS:
        assert cell in text
    assert not parsed.ocr_used


@pytest.mark.parametrize("name", GENERATED_SAMPLES)
def test_generated_sample_table_is_markdown(
    name: str, sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # given
    data = sample(name)

    # when
    parsed = parse_document(data, name, limits)

    # then
    tables = table_texts(parsed)
    assert len(tables) == 1
    lines = tables[0].split("\n")
    assert lines[0] == "| 구분 | 부여일수 | 비고 |"
    assert lines[1] == "| --- | --- | --- |"
    assert GENERATED_ROW in lines
    # The table's cells are not repeated as loose text.
    assert "최대 11일" not in normalised(
        " ".join(b.text for b in parsed.blocks if b.kind != "table")
    )


@pytest.mark.parametrize("name", ["korean.docx", "korean.pptx", "korean.html", "korean.md"])
def test_generated_sample_title_is_a_heading(
    name: str, sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # when
    parsed = parse_document(sample(name), name, limits)

    # then
    assert parsed.blocks[0].kind == "heading"
    assert parsed.blocks[0].text == "사내 휴가 규정 안내"
    assert parsed.blocks[0].level == 1


def test_pdf_blocks_carry_page_numbers(sample: Callable[[str], bytes], limits: ParseLimits) -> None:
    # when
    parsed = parse_document(sample("korean.pdf"), "korean.pdf", limits)

    # then
    assert parsed.page_count == 1
    assert parsed.blocks
    assert {block.page for block in parsed.blocks} == {1}


def test_pdf_pages_are_numbered_in_order(
    sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # given: the sample twice, as pages 1 and 2
    data = merged_pdf(sample("korean.pdf"), sample("korean.pdf"))

    # when
    parsed = parse_document(data, "twice.pdf", limits)

    # then
    assert parsed.page_count == 2
    tables = [block for block in parsed.blocks if block.kind == "table"]
    assert [table.page for table in tables] == [1, 2]
    sentences = [b for b in parsed.blocks if GENERATED_SENTENCE in normalised(b.text)]
    assert [block.page for block in sentences] == [1, 2]


def test_hwp_press_release(sample: Callable[[str], bytes], limits: ParseLimits) -> None:
    # when
    parsed = parse_document(sample("noori-press-release.hwp"), "noori.hwp", limits)

    # then
    text = all_text(parsed)
    for expected in ["누리", "보도일시", "거대공공연구정책과", "47.2 m", "이륙 중량"]:
        assert expected in text
    tables = table_texts(parsed)
    assert any(
        "| 배포일시 | 2018. 9. 3.(월) 09:00 | 담당부서 | 거대공공연구정책과 |" in t for t in tables
    )
    assert any("| 총 길이 | 47.2 m | 25.8 m |" in t for t in tables)
    assert parsed.page_count is None


def test_hwp_output_has_no_private_use_characters(
    sample: Callable[[str], bytes], limits: ParseLimits
) -> None:
    # when
    parsed = parse_document(sample("noori-press-release.hwp"), "noori.hwp", limits)

    # then
    assert not any("\ue000" <= ch <= "\uf8ff" for block in parsed.blocks for ch in block.text)
    assert "[그림]" not in all_text(parsed)


def test_hwpx_score_table(sample: Callable[[str], bytes], limits: ParseLimits) -> None:
    # when
    parsed = parse_document(sample("hwpxlib-table.hwpx"), "table.hwpx", limits)

    # then
    text = all_text(parsed)
    for expected in ["C반 기말고사", "개똥이", "89"]:
        assert expected in text
    assert any("| 개똥이 | 89 | 65 | 78 |" in t for t in table_texts(parsed))


def test_html_drops_script(sample: Callable[[str], bytes], limits: ParseLimits) -> None:
    # when
    parsed = parse_document(sample("korean.html"), "korean.html", limits)

    # then
    text = all_text(parsed)
    assert "무시" not in text
    assert "var x" not in text
    assert "휴가 규정" in text


def test_html_structure_and_declared_charset(limits: ParseLimits) -> None:
    # given: a legacy page in EUC-KR with a list, a nested table and code
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=euc-kr">'
        "<style>p { color: red }</style></head><body><nav>메뉴</nav><h2>안내</h2>"
        "<ul><li>첫째</li><li>둘째<ul><li>하위</li></ul></li></ul>"
        "<table><tr><th>이름</th><th>내용</th></tr>"
        "<tr><td>가</td><td><table><tr><td>안</td><td>쪽</td></tr></table></td></tr></table>"
        "<pre>print(1)\n  print(2)</pre><noscript>스크립트</noscript></body></html>"
    )

    # when
    parsed = parse_document(html.encode("cp949"), "legacy.htm", limits)

    # then
    kinds = [(block.kind, block.text) for block in parsed.blocks]
    assert kinds == [
        ("heading", "안내"),
        ("list", "- 첫째\n- 둘째\n  - 하위"),
        ("table", "| 이름 | 내용 |\n| --- | --- |\n| 가 | 안 쪽 |"),
        ("code", "print(1)\n  print(2)"),
    ]


def test_cp949_text_file_is_decoded(limits: ParseLimits) -> None:
    # given: a plain-text file saved by a Korean Windows editor
    data = "연차 규정\r\n\r\n미사용 연차는 이월됩니다.".encode("cp949")

    # when
    parsed = parse_document(data, "규정.txt", limits)

    # then
    assert [block.text for block in parsed.blocks] == ["연차 규정", "미사용 연차는 이월됩니다."]
    assert parsed.warnings == []


def test_utf8_with_bom_and_decomposed_hangul_is_normalised(limits: ParseLimits) -> None:
    # given: UTF-8 with a BOM, the Hangul in decomposed jamo as macOS writes names
    data = b"\xef\xbb\xbf" + unicodedata.normalize("NFD", "휴가 규정").encode("utf-8")

    # when
    parsed = parse_document(data, "notes.txt", limits)

    # then
    assert parsed.blocks[0].text == "휴가 규정"


def test_csv_becomes_a_table(limits: ParseLimits) -> None:
    # given
    data = "구분,부여일수\n1년 미만,월 1일\n".encode("cp949")

    # when
    parsed = parse_document(data, "days.csv", limits)

    # then
    assert table_texts(parsed) == ["| 구분 | 부여일수 |\n| --- | --- |\n| 1년 미만 | 월 1일 |"]


def test_markdown_code_lists_and_setext(limits: ParseLimits) -> None:
    # given
    source = (
        "제목\n===\n\n- 하나\n- 둘\n  이어짐\n\n```python\n# 주석\nx = 1\n```\n\n## 끝 ##\n본문"
    )

    # when
    parsed = parse_document(source.encode(), "readme.md", limits)

    # then
    assert [(b.kind, b.text, b.level) for b in parsed.blocks] == [
        ("heading", "제목", 1),
        ("list", "- 하나\n- 둘\n  이어짐", None),
        ("code", "# 주석\nx = 1", None),
        ("heading", "끝", 2),
        ("paragraph", "본문", None),
    ]


def test_docx_korean_heading_styles_lists_and_rendered_pages(limits: ParseLimits) -> None:
    # given: Korean style names, a bulleted list, and Word's rendered page break marks
    document = docx.Document()
    document.styles.add_style("제목 1", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("개요", style="제목 1")
    document.add_paragraph("첫 쪽 본문입니다.")
    document.add_paragraph("항목 하나", style="List Bullet")
    document.add_paragraph("항목 둘", style="List Bullet")
    second_page = document.add_paragraph()
    run = second_page.add_run("둘째 쪽 본문입니다.")
    run._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))
    document.add_heading("세부", level=2)
    buffer = io.BytesIO()
    document.save(buffer)

    # when
    parsed = parse_document(buffer.getvalue(), "규정.docx", limits)

    # then
    assert [(b.kind, b.text, b.page, b.level) for b in parsed.blocks] == [
        ("heading", "개요", 1, 1),
        ("paragraph", "첫 쪽 본문입니다.", 1, None),
        ("list", "- 항목 하나\n- 항목 둘", 1, None),
        ("paragraph", "둘째 쪽 본문입니다.", 2, None),
        ("heading", "세부", 2, 2),
    ]
    assert parsed.page_count == 2


def test_xlsx_rows_past_the_limit_are_dropped_with_a_warning() -> None:
    # given: a sheet of a header and 30 rows, read with a 10-row cap
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "직원"
    sheet.append(["이름", "부서"])
    for number in range(30):
        sheet.append([f"직원{number}", "인사팀"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    limits = ParseLimits(max_bytes=10_000_000, max_pages=10, max_table_rows=10)

    # when
    parsed = parse_document(buffer.getvalue(), "staff.xlsx", limits)

    # then
    assert parsed.blocks[0].kind == "heading"
    assert parsed.blocks[0].text == "직원"
    table_lines = table_texts(parsed)[0].split("\n")
    assert table_lines[0] == "| 이름 | 부서 |"
    assert len(table_lines) == 11  # header, separator, 9 data rows
    assert len(parsed.warnings) == 1
    assert "직원" in parsed.warnings[0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("korean.pdf", "pdf"),
        ("korean.docx", "docx"),
        ("korean.pptx", "pptx"),
        ("korean.xlsx", "xlsx"),
        ("noori-press-release.hwp", "hwp"),
        ("hwpxlib-table.hwpx", "hwpx"),
        ("korean_scan.png", "image"),
        ("korean.html", "html"),
        ("korean.md", "markdown"),
    ],
)
def test_format_is_detected_from_content_not_name(
    name: str, expected: str, sample: Callable[[str], bytes]
) -> None:
    # given: binary formats renamed to a meaningless name
    renamed = "upload.bin" if expected not in ("html", "markdown") else name

    # when
    detected = detect_format(sample(name), renamed)

    # then
    assert detected == expected


def test_parsers_load_lazily_and_without_django_settings() -> None:
    # given: a fresh interpreter with no Django settings module
    code = (
        "import sys; from rag.ingestion.parsers import parse_document, ParseLimits; "
        "heavy = ('pypdfium2', 'pdfplumber', 'docx', 'pptx', 'openpyxl', 'syhwp', 'PIL'); "
        "before = [m for m in heavy if m in sys.modules]; "
        "parse_document(b'# t', 'a.md', ParseLimits(max_bytes=100, max_pages=1)); "
        "print(before, [m for m in heavy if m in sys.modules], 'django.conf' in sys.modules)"
    )
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(Path(__file__).parents[2])}

    # when
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )

    # then: parsing Markdown imported none of the binary-format libraries, nor Django
    assert result.stdout.strip() == "[] [] False"
