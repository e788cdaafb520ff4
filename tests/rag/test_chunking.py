"""Chunks follow the document's structure: headings, pages, tables, sentences."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from rag.ingestion.chunking import Chunk, chunk_blocks
from rag.ingestion.parsers import Block, ParseLimits, parse_document
from rag.ingestion.sentences import split_sentences


def table(rows: int, *, cell: str = "값") -> str:
    lines = ["| 번호 | 내용 |", "| --- | --- |"]
    lines.extend(f"| {number} | {cell} {number} |" for number in range(rows))
    return "\n".join(lines)


def prose(sentences: int) -> str:
    return " ".join(
        f"{number}번 문장은 길이가 47.2 m인 발사체를 설명합니다." for number in range(sentences)
    )


def assert_well_formed(chunks: list[Chunk], max_chars: int) -> None:
    assert chunks
    for chunk in chunks:
        assert chunk.text.strip()
        assert chunk.text == chunk.text.strip()
        assert len(chunk.text) <= max_chars


def test_small_table_is_one_chunk_kept_whole() -> None:
    # given
    markdown = table(5)
    blocks = [Block("paragraph", "앞 문단입니다."), Block("table", markdown)]

    # when
    chunks = chunk_blocks(blocks, target_chars=100, max_chars=500)

    # then
    assert [chunk.kind for chunk in chunks] == ["paragraph", "table"]
    assert chunks[1].text == markdown


def test_large_table_is_split_between_rows_repeating_the_header() -> None:
    # given: a table of 200 rows, far over max_chars
    markdown = table(200)
    rows = markdown.split("\n")[2:]

    # when
    chunks = chunk_blocks([Block("table", markdown, page=3)], target_chars=300, max_chars=500)

    # then
    assert len(chunks) > 1
    assert_well_formed(chunks, 500)
    seen_rows: list[str] = []
    for chunk in chunks:
        lines = chunk.text.split("\n")
        assert lines[:2] == ["| 번호 | 내용 |", "| --- | --- |"]
        assert len(lines) > 2
        seen_rows.extend(lines[2:])
        assert chunk.kind == "table"
        assert chunk.page == 3
    assert seen_rows == rows


def test_table_that_fits_max_chars_is_not_split_even_above_target() -> None:
    markdown = table(40)
    assert 300 < len(markdown) <= 1000
    chunks = chunk_blocks([Block("table", markdown)], target_chars=300, max_chars=1000)
    assert [chunk.text for chunk in chunks] == [markdown]


def test_heading_path_follows_levels() -> None:
    # given
    blocks = [
        Block("heading", "1장 총칙", level=1),
        Block("paragraph", "총칙 본문."),
        Block("heading", "1.1 목적", level=2),
        Block("paragraph", "목적 본문."),
        Block("heading", "1.2 범위", level=2),
        Block("paragraph", "범위 본문."),
        Block("heading", "2장 복무", level=1),
        Block("paragraph", "복무 본문."),
    ]

    # when
    chunks = chunk_blocks(blocks)

    # then
    assert [(chunk.heading_path, chunk.text) for chunk in chunks] == [
        (["1장 총칙"], "총칙 본문."),
        (["1장 총칙", "1.1 목적"], "목적 본문."),
        (["1장 총칙", "1.2 범위"], "범위 본문."),
        (["2장 복무"], "복무 본문."),
    ]


def test_paragraphs_are_packed_up_to_target_and_never_across_pages() -> None:
    # given: five short paragraphs on page 1, two on page 2
    blocks = [Block("paragraph", f"1쪽 문단 {n}입니다.", page=1) for n in range(5)]
    blocks += [Block("paragraph", f"2쪽 문단 {n}입니다.", page=2) for n in range(2)]

    # when
    chunks = chunk_blocks(blocks, target_chars=30, max_chars=100)

    # then: two paragraphs (11 chars each, plus a blank line) fit in 30, three do not
    assert_well_formed(chunks, 100)
    assert all(len(chunk.text) <= 30 for chunk in chunks)
    assert [chunk.page for chunk in chunks] == [1, 1, 1, 2]
    assert chunks[0].text == "1쪽 문단 0입니다.\n\n1쪽 문단 1입니다."
    assert all("1쪽" not in chunk.text for chunk in chunks if chunk.page == 2)


def test_long_paragraph_is_split_at_sentences_with_overlap() -> None:
    # given
    text = prose(60)

    # when
    chunks = chunk_blocks([Block("paragraph", text, page=4)], target_chars=300, max_chars=500)

    # then
    assert len(chunks) > 2
    assert_well_formed(chunks, 500)
    for chunk in chunks:
        assert chunk.page == 4
        # Every piece starts and ends on a sentence boundary: "47.2 m" is never cut.
        assert chunk.text.endswith("설명합니다.")
        assert chunk.text[0].isdigit()
        assert all(sentence.endswith("설명합니다.") for sentence in split_sentences(chunk.text))
    for previous, following in itertools.pairwise(chunks):
        assert split_sentences(previous.text)[-1] == split_sentences(following.text)[0]


def test_no_overlap_when_asked_for_none() -> None:
    chunks = chunk_blocks(
        [Block("paragraph", prose(60))], target_chars=300, max_chars=500, overlap_sentences=0
    )
    joined = [s for chunk in chunks for s in split_sentences(chunk.text)]
    assert joined == split_sentences(prose(60))


def test_sentence_longer_than_max_chars_is_cut() -> None:
    # given: one "sentence" without any boundary
    text = "가나다 " * 300

    # when
    chunks = chunk_blocks([Block("paragraph", text)], target_chars=200, max_chars=300)

    # then
    assert_well_formed(chunks, 300)
    assert "".join(chunk.text.replace(" ", "") for chunk in chunks) == text.replace(" ", "")


def test_long_list_is_split_between_items() -> None:
    items = "\n".join(f"- 항목 {number}번은 휴가 규정의 일부입니다" for number in range(100))
    chunks = chunk_blocks([Block("list", items)], target_chars=300, max_chars=500)
    assert_well_formed(chunks, 500)
    assert all(line.startswith("- ") for chunk in chunks for line in chunk.text.split("\n"))
    assert {chunk.kind for chunk in chunks} == {"list"}


def test_no_empty_chunks_and_headings_alone_make_none() -> None:
    blocks = [Block("heading", "제목", level=1), Block("paragraph", "  "), Block("heading", "끝")]
    assert chunk_blocks(blocks) == []


def test_invalid_sizes_are_rejected() -> None:
    with pytest.raises(ValueError, match="target_chars"):
        chunk_blocks([], target_chars=2000, max_chars=1000)


def test_parsed_sample_chunks(sample: Callable[[str], bytes], limits: ParseLimits) -> None:
    # given: the sample document, parsed
    parsed = parse_document(sample("korean.docx"), "korean.docx", limits)

    # when
    chunks = chunk_blocks(parsed.blocks)

    # then
    assert [chunk.kind for chunk in chunks] == ["paragraph", "table"]
    assert all(chunk.heading_path == ["사내 휴가 규정 안내"] for chunk in chunks)
