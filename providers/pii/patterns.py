"""The patterns behind ``providers.pii.detect``: compiled once, each with its check.

Every finder takes ``(text, pos, endpos)`` (a window found by ``CLUSTER``, which
the finder's matches cannot extend beyond) and yields the ``(start, end)`` spans
of candidates that passed their validation (checksum, date, number plan,
context). Digits are ASCII ``[0-9]`` (``ascii_digits`` maps full-width ones
first). A number must stand alone: no digit,
Latin letter or underscore right before or after it, and no ``-``/``.`` joining
it to another number, so parts of dates, versions, decimals, UUIDs and longer
codes never match.
"""

from __future__ import annotations

import re
from datetime import date
from operator import mul
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

DIGIT = re.compile(r"[0-9]")
# Full-width digits, "(", ")", "+", "-", "." and "@" as some input methods type them
# (U+FF08..U+FF20): mapped one to one onto ASCII, so that offsets into the mapped text
# are offsets into the original.
_FULL_WIDTH = re.compile("[\uff08\uff09\uff0b\uff0d\uff0e\uff10-\uff19\uff20]")
_FULL_WIDTH_TABLE = {
    code: code - 0xFEE0
    for code in (0xFF08, 0xFF09, 0xFF0B, 0xFF0D, 0xFF0E, *range(0xFF10, 0xFF1A), 0xFF20)
}


def ascii_digits(text: str) -> str:
    """``text`` with full-width digits, at signs and the punctuation of numbers made ASCII,
    character for character (same length, same offsets)."""
    if _FULL_WIDTH.search(text) is None:
        return text
    return text.translate(_FULL_WIDTH_TABLE)


_DASH = "\\-\u2010-\u2014\u2212"  # hyphen-minus, Unicode hyphens and dashes, minus sign
_DASHES = re.compile(f"[{_DASH}]")
# The lookbehinds sit after the first digit so that every pattern starts with a
# character class, which lets the regex engine skip ahead quickly over Hangul.
_LB = rf"(?<![0-9A-Za-z_][0-9])(?<![0-9][{_DASH}.][0-9])"
_RB = rf"(?![0-9A-Za-z_])(?![{_DASH}.][0-9])"

# Every candidate is a run of 9+ characters of digits and separators that starts
# and ends with a digit (plus a leading "+" or "(" that WINDOW_BEFORE covers).
CLUSTER = re.compile(rf"[0-9][0-9 ().+{_DASH}]{{7,}}[0-9]")
WINDOW_BEFORE = 2
WINDOW_AFTER = 3  # the right-hand boundary checks look two characters ahead


_NON_DIGIT = re.compile(r"[^0-9]+")


def _digits(value: str) -> str:
    return _NON_DIGIT.sub("", value)


# --- resident and foreigner registration numbers ------------------------------------

_REGISTRATION = re.compile(rf"[0-9]{_LB}[0-9]{{5}}(?P<sep> ?[{_DASH}] ?| )?[0-9]{{7}}{_RB}")
_WEIGHTS_12 = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
_CORPORATE_BEFORE = 20
# The 7th digit: sex and century of birth (9, 0: 1800s; 5-8: foreigners).
_CENTURY = {
    **dict.fromkeys((0, 9), 1800),
    **dict.fromkeys((1, 2, 5, 6), 1900),
    **dict.fromkeys((3, 4, 7, 8), 2000),
}


def registration_checksum(first12: str, *, foreigner: bool) -> int:
    """The 13th digit of a resident (``(11 - s % 11) % 10``) or foreigner
    (``(13 - s % 11) % 10``) registration number issued before October 2020."""
    total: int = sum(map(mul, map(int, first12), _WEIGHTS_12))
    return ((13 if foreigner else 11) - total % 11) % 10


def _valid_birth(yymmdd: str, gender: int) -> bool:
    year = _CENTURY[gender] + int(yymmdd[:2])
    try:
        date(year, int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        return False
    return True


def registration_numbers(text: str, pos: int, endpos: int) -> Iterator[tuple[int, int, bool]]:
    """``(start, end, is_foreigner)`` of resident/foreigner registration numbers."""
    for match in _REGISTRATION.finditer(text, pos, endpos):
        digits = _digits(match[0])
        gender = int(digits[6])
        if not _valid_birth(digits[:6], gender):
            continue
        foreigner = gender in (5, 6, 7, 8)
        checksum_ok = registration_checksum(digits[:12], foreigner=foreigner) == int(digits[12])
        if checksum_ok or _unchecked_registration(text, match, gender):
            yield match.start(), match.end(), foreigner


def _unchecked_registration(text: str, match: re.Match[str], gender: int) -> bool:
    """Without a checksum only the official dashed shape counts, for the digits still
    issued (1900s and 2000s births), and not when the text calls it a corporate
    registration number (법인등록번호, also XXXXXX-XXXXXXX and public)."""
    dashed = match["sep"] is not None and match["sep"].strip() != ""
    if not dashed or gender in (9, 0):
        return False
    return "법인" not in text[max(0, match.start() - _CORPORATE_BEFORE) : match.start()]


# --- card numbers ---------------------------------------------------------------------

_CARD = re.compile(
    rf"[0-9]{_LB}(?:"
    rf"[0-9]{{3}}(?P<s>[ {_DASH}])[0-9]{{4}}(?P=s)[0-9]{{4}}(?P=s)[0-9]{{1,4}}"
    rf"(?:(?P=s)[0-9]{{1,3}})?"
    rf"|[0-9]{{3}}(?P<t>[ {_DASH}])[0-9]{{6}}(?P=t)[0-9]{{4,5}}"
    rf"|[0-9]{{12,18}}"
    rf"){_RB}"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_brand_plausible(digits: str) -> bool:
    """Whether the issuer prefix (IIN) and length fit a card brand in use in Korea:
    Visa, Mastercard, Amex, Diners, JCB, Discover/UnionPay/Maestro and the
    domestic-only cards (BC and others) starting with 9."""
    length = len(digits)
    two, four = int(digits[:2]), int(digits[:4])
    if digits[0] == "4":
        return length in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return length == 16
    if two in (34, 37):
        return length == 15
    if two in (30, 36, 38, 39):
        return 14 <= length <= 19
    if 3528 <= four <= 3589:
        return 16 <= length <= 19
    if digits[0] == "6" or two in (50, 56, 57, 58):
        return 16 <= length <= 19
    if digits[0] == "9":
        return length == 16
    return False


def card_numbers(text: str, pos: int, endpos: int) -> Iterator[tuple[int, int]]:
    for match in _CARD.finditer(text, pos, endpos):
        digits = _digits(match[0])
        if 13 <= len(digits) <= 19 and card_brand_plausible(digits) and luhn_valid(digits):
            yield match.start(), match.end()


# --- phone numbers with area codes ------------------------------------------------------

_PSEP = rf"(?: ?[{_DASH}.] ?| )?"
_AREA = r"1[016789]|2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70|80|50[2-8]"  # after the leading 0
_PHONE = re.compile(
    rf"(?:\( ?0{_LB}(?P<paren>{_AREA}) ?\) ?|0{_LB}(?P<area>{_AREA})(?P<s1>\) ?|{_PSEP}))"
    rf"(?P<mid>[0-9]{{3,4}})(?P<s2>{_PSEP})[0-9]{{4}}{_RB}"
)
_PHONE_INTL = re.compile(
    rf"(?:\+(?<![0-9A-Za-z_+]\+) ?|0(?<![0-9A-Za-z_+]0)0)82{_PSEP}(?:\(0\) ?)?"
    rf"(?P<area>{_AREA}){_PSEP}(?P<mid>[0-9]{{3,4}}){_PSEP}[0-9]{{4}}{_RB}"
)


def _phone_plan_ok(area: str, mid: str, *, bare: bool) -> bool:
    """``area`` without its leading 0. Mobile 010 numbers have 4-digit middles; local
    numbers never start with 0 or 1, but written with separators, example numbers
    such as 02-1234-5678 are still taken for phone numbers."""
    if area == "10":
        return len(mid) == 4
    if area.startswith("1"):
        return True
    return not bare or mid[0] not in "01"


def phone_numbers(text: str, pos: int, endpos: int) -> Iterator[tuple[int, int]]:
    """Mobile, area-code, 070/080/050x and +82 numbers (representative 15xx numbers
    are found with the other dashed runs, in ``digit_runs``)."""
    for match in _PHONE.finditer(text, pos, endpos):
        area = match["paren"] or match["area"]
        bare = match["paren"] is None and not match["s1"] and not match["s2"]
        if _phone_plan_ok(area, match["mid"], bare=bare):
            yield match.start(), match.end()
    if text.find("82", pos, endpos) != -1:
        for match in _PHONE_INTL.finditer(text, pos, endpos):
            if _phone_plan_ok(match["area"], match["mid"], bare=False):
                yield match.start(), match.end()


# --- runs of digits and dashes: business numbers, accounts, 15xx numbers -----------------

# 8+ characters: the shortest candidate is a 15xx-XXXX number.
_RUN = re.compile(rf"[0-9]{_LB}[0-9{_DASH}]{{6,}}[0-9]{_RB}")
_DOUBLE_DASH = re.compile(f"[{_DASH}]{{2}}")
_BUSINESS_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_BUSINESS_WORD = re.compile(r"사업자|business\s*(?:registration|no|number)|\bBRN\b", re.I)
_YEAR_AFTER = re.compile(r" ?(?:년|年)")

# Common layouts (KB 6-2-6 and 3-2-4-3, Shinhan 3-3-6 and 3-2-6, Woori 4-3-6, Hana 3-6-5,
# NH and Busan 3-4-4-2, IBK 3-6-2-3, Kakao Bank 4-2-7, K Bank 3-3-6, post office 6-2-6,
# Kyongnam 3-2-7, Citi 3-6-3); Toss Bank's 1000-XXXX-XXXX is checked by its prefix.
ACCOUNT_LAYOUTS = frozenset(
    {
        (3, 2, 6),
        (3, 3, 6),
        (3, 6, 5),
        (3, 2, 7),
        (3, 6, 3),
        (4, 2, 7),
        (4, 3, 6),
        (6, 2, 6),
        (3, 4, 4, 2),
        (3, 6, 2, 3),
        (3, 2, 4, 3),
    }
)
# The lookahead lets the engine skip positions that cannot start any of the words.
_ACCOUNT_WORD = re.compile(
    r"(?=[계입송이통은뱅농신수우새AaBb])(?:계좌|입금|송금|이체|통장|은행|뱅크|농협|신협|수협"
    r"|우체국|새마을금고|(?i:account|acct|a/c|\bbank))"
)
# A label between the account word and the number means the number is something else.
_OTHER_NUMBER_WORD = re.compile(
    r"주문|전화|휴대|연락|카드|사업자|주민|송장|운송장|회원|고객|사번|승인|예약|접수"
    r"|order|phone|tel|mobile|card|invoice|tracking|ref",
    re.I,
)
_AMOUNT_AFTER = re.compile(r" ?(?:원|만|억|천|달러|KRW|USD|won)", re.I)
_WORD_BEFORE = 40
_WORD_AFTER = 16


def business_number_valid(digits: str) -> bool:
    """The National Tax Service checksum of a 10-digit business registration number."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    values = [int(d) for d in digits]
    total: int = sum(map(mul, values, _BUSINESS_WEIGHTS))
    total += values[8] * 5 // 10
    return (10 - total % 10) % 10 == values[9]


def _starts_with_date(digits: str) -> bool:
    """Order and transaction numbers often start with yyyymmdd."""
    if digits[:2] not in ("19", "20"):
        return False
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return True


def _near_word(text: str, start: int, end: int, word: re.Pattern[str]) -> bool:
    """Whether ``word`` is just before (or just after) text[start:end], with no digit
    and no label of another kind of number between them."""
    before = text[max(0, start - _WORD_BEFORE) : start]
    words = list(word.finditer(before))
    if words:
        gap = before[words[-1].end() :]
        if not DIGIT.search(gap) and not _OTHER_NUMBER_WORD.search(gap):
            return True
    after = text[end : end + _WORD_AFTER]
    first = word.search(after)
    if first is None:
        return False
    gap = after[: first.start()]
    return not DIGIT.search(gap) and not _OTHER_NUMBER_WORD.search(gap)


def _representative(text: str, end: int, groups: list[str]) -> bool:
    """15xx/16xx/18xx-XXXX, but not a range of years (1600-1700년, 1800-1900)."""
    head, tail = groups
    if len(head) != 4 or len(tail) != 4 or head[:2] not in ("15", "16", "18"):
        return False
    if _YEAR_AFTER.match(text, end):
        return False
    return not (head.endswith("00") and tail.endswith("00"))


def digit_runs(
    text: str, pos: int, endpos: int, known: frozenset[tuple[int, int]] = frozenset()
) -> Iterator[tuple[str, int, int]]:
    """``(kind, start, end)`` with kind ``business``, ``account`` or ``phone``. Spans in
    ``known`` (already found as another kind) skip the context checks."""
    for match in _RUN.finditer(text, pos, endpos):
        run, start, end = match[0], match.start(), match.end()
        if _DOUBLE_DASH.search(run):
            continue
        groups = _DASHES.split(run)
        digits = "".join(groups)
        layout = tuple(map(len, groups))
        if len(groups) == 2 and _representative(text, end, groups):
            yield "phone", start, end
            continue
        if _business(text, start, end, layout, digits, known):
            yield "business", start, end
        if _account(text, start, end, layout, digits, known):
            yield "account", start, end


def _business(
    text: str,
    start: int,
    end: int,
    layout: tuple[int, ...],
    digits: str,
    known: frozenset[tuple[int, int]],
) -> bool:
    """XXX-XX-XXXXX, or ten bare digits right after words about a business number
    (else they are any ten digits), with a valid checksum."""
    if layout == (3, 2, 5):
        return business_number_valid(digits)
    return (
        layout == (10,)
        and (start, end) not in known
        and _near_word(text, start, end, _BUSINESS_WORD)
        and business_number_valid(digits)
    )


def _account(
    text: str,
    start: int,
    end: int,
    layout: tuple[int, ...],
    digits: str,
    known: frozenset[tuple[int, int]],
) -> bool:
    if layout in ACCOUNT_LAYOUTS or (layout == (4, 4, 4) and digits.startswith("100")):
        return True
    if (start, end) in known:
        return False
    return _account_by_context(text, start, end, digits, bare=len(layout) == 1)


def _account_by_context(text: str, start: int, end: int, digits: str, *, bare: bool) -> bool:
    """10-16 digits in any layout count as an account number next to words about one
    (계좌, 입금, 은행, account, ...), unless they look like a dated order number or an
    amount."""
    if not 10 <= len(digits) <= 16:
        return False
    if bare and _starts_with_date(digits):
        return False
    if _AMOUNT_AFTER.match(text, end):
        return False
    return _near_word(text, start, end, _ACCOUNT_WORD)


# --- e-mail addresses -------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+(?P<tld>[A-Za-z]{2,24})"
    r"(?![A-Za-z0-9\-])"
)
# name@2x.png is an image file, not an address.
_FILE_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "avif"})


def emails(text: str) -> Iterator[tuple[int, int]]:
    for match in _EMAIL.finditer(text):
        if match["tld"].lower() not in _FILE_SUFFIXES:
            yield match.start(), match.end()
