"""Korean sentence boundaries for splitting long paragraphs."""

from __future__ import annotations

import pytest

from rag.ingestion.sentences import sentence_spans, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "누리호의 총 길이는 47.2 m이다. 최대 직경은 3.5 m이다.",
            ["누리호의 총 길이는 47.2 m이다.", "최대 직경은 3.5 m이다."],
        ),
        ("정말요? 네, 그렇죠. 좋아요!", ["정말요?", "네, 그렇죠.", "좋아요!"]),
        ("회의를 할까? 하지 말까?", ["회의를 할까?", "하지 말까?"]),
        ("끝났습니다。 다음입니다.", ["끝났습니다。", "다음입니다."]),
        (
            "보도일시는 2018. 9. 4.(화) 조간입니다. 감사합니다.",
            ["보도일시는 2018. 9. 4.(화) 조간입니다.", "감사합니다."],
        ),
        ("1. 목적입니다. 2. 범위입니다.", ["1. 목적입니다.", "2. 범위입니다."]),
        ("가. 첫째 항목. 나. 둘째 항목.", ["가. 첫째 항목.", "나. 둘째 항목."]),
        (
            "Tools, e.g. Python, help. Dr. Kim agreed.",
            ["Tools, e.g. Python, help.", "Dr. Kim agreed."],
        ),
        ("J. Kim wrote v1.2 in 2024. It works.", ["J. Kim wrote v1.2 in 2024.", "It works."]),
        ("그는 “좋다.” 라고 말했다. 끝이다.", ["그는 “좋다.” 라고 말했다.", "끝이다."]),
        (
            "예산을 검토함\n일정을 확정함\n다음 회의",
            ["예산을 검토함", "일정을 확정함", "다음 회의"],
        ),
        ("마침표 없는 문장", ["마침표 없는 문장"]),
        ("   ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_spans_point_into_the_text_without_surrounding_space() -> None:
    # given
    text = "  첫 문장이다.   둘째 문장이다.  "

    # when
    spans = sentence_spans(text)

    # then
    assert [text[start:end] for start, end in spans] == ["첫 문장이다.", "둘째 문장이다."]
