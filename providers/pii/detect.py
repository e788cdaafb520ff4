"""Find and mask Korean personal data in text. Pure functions: no Django, no I/O.

``find_pii`` returns non-overlapping findings in text order; ``mask_pii`` replaces
each with a fixed Korean label such as ``[주민등록번호]``. The patterns and their
validation (checksums, dates, number plans) live in ``providers.pii.patterns``.

Resident registration numbers: numbers issued since October 2020 carry no
checksum (the last six digits are random), so a failing checksum does not mean
"not a resident registration number". A number is reported when its date of
birth is a real date, its 7th digit is a valid gender/century digit and either
its checksum holds (with or without a separator) or it is written in the
official shape ``YYMMDD-GXXXXXX`` with a dash and G in 1-8 (and the text just before it does not
call it a 법인등록번호, a corporate registration number of the same shape). A bare
13-digit run with a failing checksum is not reported: without the dash it is as
likely an order or tracking number. The same rule applies to foreigner
registration numbers.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from providers.pii import patterns


class PiiKind(StrEnum):
    """Kinds of personal data, most specific first (the order wins ties in overlaps)."""

    RESIDENT_NUMBER = "resident_registration_number"
    FOREIGNER_NUMBER = "foreigner_registration_number"
    BUSINESS_NUMBER = "business_registration_number"
    CARD_NUMBER = "card_number"
    PHONE_NUMBER = "phone_number"
    BANK_ACCOUNT = "bank_account"
    EMAIL = "email"


# What the model sees instead of the value: Korean, whatever the user's language.
MASK_LABELS: dict[PiiKind, str] = {
    PiiKind.RESIDENT_NUMBER: "[주민등록번호]",
    PiiKind.FOREIGNER_NUMBER: "[외국인등록번호]",
    PiiKind.BUSINESS_NUMBER: "[사업자등록번호]",
    PiiKind.CARD_NUMBER: "[카드번호]",
    PiiKind.PHONE_NUMBER: "[전화번호]",
    PiiKind.BANK_ACCOUNT: "[계좌번호]",
    PiiKind.EMAIL: "[이메일]",
}
_RANK = {kind: rank for rank, kind in enumerate(PiiKind)}
_WINDOW_MERGE_GAP = 256
_RUN_KINDS = {
    "business": PiiKind.BUSINESS_NUMBER,
    "account": PiiKind.BANK_ACCOUNT,
    "phone": PiiKind.PHONE_NUMBER,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data at ``text[start:end]``. The value is never kept."""

    kind: PiiKind
    start: int
    end: int


def find_pii(text: str) -> list[Finding]:
    """Every piece of personal data in ``text``, in text order, no two overlapping.

    When candidates overlap, the longer span wins (an e-mail address containing a
    phone number is one e-mail address); for spans of the same length the more
    specific kind wins (a 13-digit run that is a valid resident registration
    number and also passes Luhn is a resident registration number).
    """
    text = patterns.ascii_digits(text)
    has_digit = patterns.DIGIT.search(text) is not None
    has_at = "@" in text
    if not has_digit and not has_at:
        return []  # the fast path: most prose

    candidates: list[Finding] = []
    if has_digit:
        candidates.extend(_digit_candidates(text))
    if has_at:
        candidates.extend(
            Finding(PiiKind.EMAIL, start, end) for start, end in patterns.emails(text)
        )
    return _resolve(candidates)


def may_hold_pii(text: str) -> bool:
    """False when ``text`` cannot hold any kind (no digit and no "@")."""
    return (
        "@" in text
        or patterns.DIGIT.search(text) is not None
        or patterns.ascii_digits(text) is not text
    )


def _digit_candidates(text: str) -> list[Finding]:
    """Candidates from the digit patterns, run only over the windows of text where
    numbers cluster (most prose has few numbers), not over the whole text."""
    found: list[Finding] = []
    for pos, endpos in _windows(text):
        here: list[Finding] = [
            Finding(PiiKind.FOREIGNER_NUMBER if foreigner else PiiKind.RESIDENT_NUMBER, s, e)
            for s, e, foreigner in patterns.registration_numbers(text, pos, endpos)
        ]
        here.extend(
            Finding(PiiKind.CARD_NUMBER, s, e) for s, e in patterns.card_numbers(text, pos, endpos)
        )
        here.extend(
            Finding(PiiKind.PHONE_NUMBER, s, e)
            for s, e in patterns.phone_numbers(text, pos, endpos)
        )
        known = frozenset((f.start, f.end) for f in here)
        here.extend(
            Finding(_RUN_KINDS[kind], s, e)
            for kind, s, e in patterns.digit_runs(text, pos, endpos, known)
        )
        found.extend(here)
    return found


def _windows(text: str) -> list[tuple[int, int]]:
    """``(pos, endpos)`` around each cluster of digits; clusters close together share
    one window, since a pattern scan costs less than a call per cluster."""
    windows: list[tuple[int, int]] = []
    length = len(text)
    for cluster in patterns.CLUSTER.finditer(text):
        pos = max(0, cluster.start() - patterns.WINDOW_BEFORE)
        endpos = min(length, cluster.end() + patterns.WINDOW_AFTER)
        if windows and pos - windows[-1][1] <= _WINDOW_MERGE_GAP:
            windows[-1] = (windows[-1][0], endpos)
        else:
            windows.append((pos, endpos))
    return windows


def _resolve(candidates: list[Finding]) -> list[Finding]:
    """Keep the longest, then most specific, candidates that overlap nothing kept."""
    if len(candidates) < 2:
        return candidates
    candidates.sort(key=lambda f: (f.start - f.end, _RANK[f.kind], f.start))
    starts: list[int] = []
    kept: list[Finding] = []
    for finding in candidates:
        index = bisect.bisect_right(starts, finding.start)
        if index > 0 and kept[index - 1].end > finding.start:
            continue
        if index < len(kept) and kept[index].start < finding.end:
            continue
        starts.insert(index, finding.start)
        kept.insert(index, finding)
    return kept


def mask_pii(text: str, findings: list[Finding]) -> str:
    """``text`` with each finding replaced by its label (``MASK_LABELS``).

    ``findings`` must not overlap (``find_pii`` guarantees it); their order does not
    matter.
    """
    if not findings:
        return text
    parts: list[str] = []
    position = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < position:
            raise ValueError("findings overlap")
        parts.append(text[position : finding.start])
        parts.append(MASK_LABELS[finding.kind])
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def count_kinds(findings: list[Finding]) -> dict[str, int]:
    """Hits per kind, keyed by the kind's value, in ``PiiKind`` order."""
    counts = Counter(finding.kind for finding in findings)
    return {kind.value: counts[kind] for kind in PiiKind if counts[kind]}
