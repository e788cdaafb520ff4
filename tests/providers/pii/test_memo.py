"""The memo of recent findings: same answers as the detector, no text kept."""

from __future__ import annotations

from providers.pii.detect import find_pii
from providers.pii.memo import FindingsMemo

LONG = "회의록 " * 100 + "담당 010-1234-5678, 메일 kim@acme.co.kr " + "후속 조치 " * 100


def test_answers_match_the_detector_and_repeat_from_the_memo() -> None:
    memo = FindingsMemo(min_chars=256)
    first = memo.find(LONG)
    assert first == find_pii(LONG)
    again = memo.find(LONG)
    assert again == first and again is not first  # a copy: callers may change their list
    assert len(memo._entries) == 1


def test_only_digests_are_kept() -> None:
    memo = FindingsMemo(min_chars=256)
    memo.find(LONG)
    (key,) = memo._entries
    assert isinstance(key, bytes) and len(key) == 16
    assert b"010-1234-5678" not in key and "kim@acme" not in repr(memo._entries)


def test_short_and_clean_texts_skip_the_memo_and_old_entries_leave() -> None:
    memo = FindingsMemo(min_chars=256, max_entries=2)
    memo.find("010-1234-5678")
    memo.find("가나다라 " * 100)
    assert not memo._entries
    texts = [LONG + str(n) for n in range(3)]
    for text in texts:
        memo.find(text)
    assert len(memo._entries) == 2
    assert memo.find(texts[0]) == find_pii(texts[0])
    memo.clear()
    assert not memo._entries
