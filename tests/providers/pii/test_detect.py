"""The detector: each kind's positives and look-alikes, checksums, overlaps, masking."""

from __future__ import annotations

import pytest

from providers.pii.detect import Finding, PiiKind, count_kinds, find_pii, mask_pii
from providers.pii.patterns import (
    business_number_valid,
    card_brand_plausible,
    luhn_valid,
    registration_checksum,
)

RRN = PiiKind.RESIDENT_NUMBER
FRN = PiiKind.FOREIGNER_NUMBER
BRN = PiiKind.BUSINESS_NUMBER
CARD = PiiKind.CARD_NUMBER
PHONE = PiiKind.PHONE_NUMBER
ACCOUNT = PiiKind.BANK_ACCOUNT
EMAIL = PiiKind.EMAIL


def found(text: str) -> list[tuple[PiiKind, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find_pii(text)]


# --- checksums, computed by hand ------------------------------------------------------


def test_resident_checksum_by_hand() -> None:
    # 9·2+0·3+0·4+1·5+0·6+1·7+1·8+2·9+3·2+4·3+5·4+6·5 = 124; 124 % 11 = 3; (11-3) % 10 = 8
    assert registration_checksum("900101123456", foreigner=False) == 8
    # 8·2+5·3+1·4+2·5+3·6+1·7+2·8+3·9+4·2+5·3+6·4+7·5 = 195; 195 % 11 = 8; 11-8 = 3
    assert registration_checksum("851231234567", foreigner=False) == 3


def test_foreigner_checksum_by_hand() -> None:
    # 9·2+0+0+1·5+0+1·7+5·8+1·9+2·2+3·3+4·4+5·5 = 133; 133 % 11 = 1; (13-1) % 10 = 2
    assert registration_checksum("900101512345", foreigner=True) == 2
    assert registration_checksum("900101512345", foreigner=False) == 0


def test_business_checksum_by_hand() -> None:
    # 2·1+2·3+0·7+8·1+1·3+6·7+2·1+5·3+1·5 = 83, + (1·5)//10 = 0 → (10-3) % 10 = 7
    assert business_number_valid("2208162517")
    # 1+6+28+8+3+0+0+27+45 = 118, + (9·5)//10 = 4 → 122 → (10-2) % 10 = 8
    assert business_number_valid("1248100998")
    assert not business_number_valid("2208162518")
    assert not business_number_valid("220816251")


def test_luhn_and_issuer() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert luhn_valid("79927398713")  # the textbook example
    assert card_brand_plausible("378282246310005")  # Amex, 15
    assert not card_brand_plausible("3782822463100051")  # Amex prefix, 16 digits
    assert not card_brand_plausible("1234567812345670")  # no issuer starts with 1
    assert card_brand_plausible("9410123456781231")  # Korean domestic-only card


# --- resident and foreigner registration numbers -----------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("제 주민등록번호는 900101-1234568입니다.", [(RRN, "900101-1234568")]),
        ("주민번호 9001011234568 로 조회해 주세요", [(RRN, "9001011234568")]),
        ("주민번호: 900101 1234568", [(RRN, "900101 1234568")]),
        ("주민번호 900101 - 1234568", [(RRN, "900101 - 1234568")]),
        ("번호 851231\u20132345673 (en dash)", [(RRN, "851231\u20132345673")]),
        ("2000년생 000229-3123456", [(RRN, "000229-3123456")]),  # 2000-02-29 exists
        ("1800년대 출생 991231-9876541?", []),  # shape only, 1800s: no checksum, not issued
        ("외국인등록번호 900101-5123452", [(FRN, "900101-5123452")]),
        ("외국인 9001015123452", [(FRN, "9001015123452")]),
        ("Alien registration no. 921115-6234563.", [(FRN, "921115-6234563")]),
    ],
)
def test_registration_numbers(text: str, expected: list[tuple[PiiKind, str]]) -> None:
    assert found(text) == expected


def test_post_2020_numbers_without_checksum_are_flagged_only_with_the_dash() -> None:
    """Numbers issued since October 2020 carry no checksum: the dashed official shape
    with a real date of birth is enough; a bare 13-digit run needs the checksum."""
    assert registration_checksum("900101123456", foreigner=False) != 7
    assert found("신규 발급 900101-1234567") == [(RRN, "900101-1234567")]
    assert found("2021년 출생 210315-4987612 입니다") == [(RRN, "210315-4987612")]
    assert found("주문 9001011234567") == []
    assert found("외국인 900101-5123450") == [(FRN, "900101-5123450")]
    assert found("외국인 9001015123450") == []


def test_corporate_registration_numbers_share_the_shape_but_are_not_personal() -> None:
    # 법인등록번호: registry office 1101, kind 11, serial, its own check digit.
    assert found("법인등록번호 110111-1234567") == []
    assert found("(주)에이크미 법인번호: 110111-1234567") == []
    assert found("주민등록번호 110111-1234567") == [(RRN, "110111-1234567")]
    # A valid resident-number checksum is reported whatever the text says.
    assert found("법인 대표 900101-1234568") == [(RRN, "900101-1234568")]


@pytest.mark.parametrize(
    "text",
    [
        "901301-1234568",  # month 13
        "900230-1234568",  # 30 February
        "010229-3123456",  # 2001 was no leap year
        "900100-1234568",  # day 0
        "900101-12345689",  # eight digits after the dash
        "1900101-1234568",  # seven before it
        "A900101-1234568",  # part of a code
        "900101-1234568B",
        "2024-900101-1234568",  # joined to another number by a dash
        "900101-1234568-01",
        "9001011234567",  # bare with a failing checksum
        "900101-1******",  # already masked
    ],
)
def test_registration_look_alikes(text: str) -> None:
    assert [kind for kind, _ in found(text)] not in ([RRN], [FRN])


# --- business registration numbers -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("사업자등록번호: 220-81-62517", [(BRN, "220-81-62517")]),
        ("(주)에이크미 124-81-00998 대표 홍길동", [(BRN, "124-81-00998")]),
        ("사업자번호 2208162517 확인 부탁드립니다", [(BRN, "2208162517")]),
        ("Business registration number 1248100998", [(BRN, "1248100998")]),
        ("사업자등록번호 220-81-62518", []),  # checksum fails
        ("고객 코드 2208162517", []),  # ten bare digits without a word about them
        ("220-81-62517-1", []),
    ],
)
def test_business_numbers(text: str, expected: list[tuple[PiiKind, str]]) -> None:
    assert found(text) == expected


# --- phone numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "010-1234-5678",
        "010.1234.5678",
        "010 1234 5678",
        "010 - 1234 - 5678",
        "01012345678",
        "011-123-4567",
        "016-1234-5678",
        "019-234-5678",
        "02-123-4567",
        "02-1234-5678",
        "(02) 123-4567",
        "02)123-4567",
        "0223456789",
        "031-123-4567",
        "051-987-6543",
        "064-712-3456",
        "070-1234-5678",
        "0505-123-4567",
        "080-123-4567",
        "1588-1234",
        "1644-0987",
        "1899-2000",
        "+82-10-1234-5678",
        "+82 10 1234 5678",
        "+821012345678",
        "+82 (0)2-123-4567",
        "0082-31-123-4567",
    ],
)
def test_phone_numbers(number: str) -> None:
    text = f"문의는 {number}(으)로 연락 주세요."
    assert found(text) == [(PHONE, number)]


@pytest.mark.parametrize(
    "text",
    [
        "010-123-4567",  # 010 numbers always have four digits in the middle
        "0212345678",  # a local number never starts with 1: bare, this is no phone
        "1600-1700년대 조선 후기",
        "1800-1900",
        "1588-1234-5678",
        "02-12-2024",
        "2024.02.15",
        "15:30-16:45",
        "v010.1234.5678",
        "총 1588 명",
        "+1 650-253-0000",
    ],
)
def test_phone_look_alikes(text: str) -> None:
    assert found(text) == []


# --- card numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "5555 5555 5555 4444",
        "2223 0031 2200 3222",  # Mastercard 2-series
        "3782 822463 10005",  # Amex 4-6-5
        "378282246310005",
        "3056 930902 5904",  # Diners 4-6-4
        "6011111111111117",
        "3530111333300000",  # JCB
        "6221260000000000",  # UnionPay
        "4222222222222",  # 13-digit Visa
        "9410-1234-5678-1231",  # domestic-only card
    ],
)
def test_card_numbers(number: str) -> None:
    assert found(f"결제 카드 {number} 로 승인되었습니다") == [(CARD, number)]


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # Luhn fails
        "1234 5678 9012 3452",  # Luhn holds, but no issuer starts with 1
        "4111 1111-1111 1111",  # mixed separators are not one number
        "41111111111111111111",  # 20 digits
        "4111-1111-1111-1111-1111-1",  # dashes join it into one longer number
    ],
)
def test_card_look_alikes(text: str) -> None:
    assert CARD not in [kind for kind, _ in found(text)]


# --- bank accounts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "110-123-456789",  # 신한 3-3-6
        "123-45-678901",  # 3-2-6
        "123456-78-901234",  # 국민, 우체국 6-2-6
        "1002-123-456789",  # 우리 4-3-6
        "123-456789-12345",  # 하나 3-6-5
        "302-1234-5678-91",  # 농협 3-4-4-2
        "123-456789-01-234",  # 기업 3-6-2-3
        "3333-01-1234567",  # 카카오뱅크 4-2-7
        "1000-1234-5678",  # 토스뱅크
        "123-45-6789-012",  # 국민 (old) 3-2-4-3
    ],
)
def test_bank_account_layouts(number: str) -> None:
    assert found(f"환불은 {number} 으로 부탁드립니다") == [(ACCOUNT, number)]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("입금 계좌: 110123456789", "110123456789"),
        ("계좌번호 국민은행 94370200123456 예금주 홍길동", "94370200123456"),
        ("account no. 1234567890123", "1234567890123"),
        ("123456789012 (신한)으로 입금 바랍니다", "123456789012"),
        ("송금할 곳 3520-1234-5678-12", "3520-1234-5678-12"),
    ],
)
def test_bank_accounts_by_context(text: str, number: str) -> None:
    assert found(text) == [(ACCOUNT, number)]


@pytest.mark.parametrize(
    "text",
    [
        "주문번호 2024011512345678",
        "운송장 123456789012 조회",
        "계좌이체 금액 1234567890원",
        "입금 주문번호 123456789012",
        "계좌 20240115123456 건",  # starts with a date: a transaction number
        "입금일 20240115",
        "입금 예정일 2024-01-15",
        "1234567890123",  # no word about an account
        "은행 대출 잔액 1,234,567,890원",
    ],
)
def test_bank_account_look_alikes(text: str) -> None:
    assert ACCOUNT not in [kind for kind, _ in found(text)]


# --- e-mail addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["kim.minsu@acme.co.kr", "hong+ai@gmail.com", "user_01@mail.example.org"]
)
def test_emails(address: str) -> None:
    assert found(f"메일({address})로 보내 주세요") == [(EMAIL, address)]


@pytest.mark.parametrize(
    "text", ["@property 데코레이터", "icon@2x.png", "foo@localhost", "이메일: user@", "a@b"]
)
def test_email_look_alikes(text: str) -> None:
    assert found(text) == []


# --- ordinary text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2024년 3분기 매출은 1,234,567,890원으로 전년 대비 12.5% 증가했습니다.",
        "회의는 2024-10-15 14:00, 3층 대회의실에서 열립니다.",
        "2024. 10. 15. 오후 2시",
        "버전 v2.3.10 배포 완료 (build 20241015.3)",
        "서버 192.168.0.1:8080, 10.0.0.254",
        "좌표 37.5665, 126.9780",
        "ISBN 978-89-6626-123-4",
        "UUID 550e8400-e29b-41d4-a716-446655440000",
        "커밋 3f2a9c1d8e7b6a5f4e3d2c1b0a998877 반영",
        "타임스탬프 1700000000123",
        "총 금액 10000000000원",
        "원주율 3.141592653589793",
        "2023~2024년 사업 계획",
        "제품 코드 ABC-1234-5678",
        "ISO 8601: 2024-10-15T14:00:00+09:00",
        "₩1,500,000 / $1,234.56 / 1.5억",
        "예산 5,000,000,000원 중 1,234,567,890원 집행",
    ],
)
def test_ordinary_numbers_are_not_personal_data(text: str) -> None:
    assert found(text) == []


def test_text_without_digits_or_at_sign() -> None:
    assert find_pii("") == []
    assert find_pii("오늘 점심은 김치찌개입니다. 회의는 취소되었습니다.") == []


# --- overlaps -----------------------------------------------------------------------------------


def test_an_email_containing_a_phone_number_is_one_email() -> None:
    assert found("연락: 01012345678@naver.com") == [(EMAIL, "01012345678@naver.com")]


def test_a_resident_number_that_also_passes_luhn_is_a_resident_number() -> None:
    number = "4001011000068"  # 1940-01-01, checksum holds, and a Luhn-valid Visa prefix
    assert luhn_valid(number) and card_brand_plausible(number)
    assert found(f"번호 {number}") == [(RRN, number)]


def test_a_resident_number_next_to_account_words_is_a_resident_number() -> None:
    assert found("입금 계좌 900101-1234568") == [(RRN, "900101-1234568")]


def test_a_phone_number_next_to_account_words_is_a_phone_number() -> None:
    assert found("입금 확인 문의 01012345678") == [(PHONE, "01012345678")]


def test_a_realistic_message_with_every_kind() -> None:
    text = (
        "안녕하세요, 인사팀 김민수입니다.\n"
        "신규 입사자 정보: 이름 홍길동, 주민등록번호 900101-1234568, "
        "외국인 직원 900101-5123452, 연락처 010-9876-5432 (사무실 02-123-4567), "
        "메일 gildong.hong@acme.co.kr, 급여 계좌 신한 110-123-456789, "
        "법인카드 4111-1111-1111-1111, 거래처 사업자등록번호 220-81-62517.\n"
        "입사일은 2024-11-01, 연봉은 45,000,000원입니다."
    )
    assert found(text) == [
        (RRN, "900101-1234568"),
        (FRN, "900101-5123452"),
        (PHONE, "010-9876-5432"),
        (PHONE, "02-123-4567"),
        (EMAIL, "gildong.hong@acme.co.kr"),
        (ACCOUNT, "110-123-456789"),
        (CARD, "4111-1111-1111-1111"),
        (BRN, "220-81-62517"),
    ]
    assert count_kinds(find_pii(text)) == {
        "resident_registration_number": 1,
        "foreigner_registration_number": 1,
        "business_registration_number": 1,
        "card_number": 1,
        "phone_number": 2,
        "bank_account": 1,
        "email": 1,
    }


def test_numbers_in_a_table() -> None:
    text = (
        "이름,전화,메일\n김민수,010-1111-2222,kim@acme.test\n이지은,010-3333-4444,lee@acme.test\n"
    )
    assert [kind for kind, _ in found(text)] == [PHONE, EMAIL, PHONE, EMAIL]


# --- masking -----------------------------------------------------------------------------


def test_mask_replaces_each_value_with_its_label() -> None:
    text = "주민번호 900101-1234568, 전화 010-1234-5678, 메일 kim@acme.co.kr 입니다."
    assert mask_pii(text, find_pii(text)) == (
        "주민번호 [주민등록번호], 전화 [전화번호], 메일 [이메일] 입니다."
    )


def test_mask_labels_of_every_kind() -> None:
    text = "900101-5123452 / 220-81-62517 / 4111 1111 1111 1111 / 3333-01-1234567"
    assert mask_pii(text, find_pii(text)) == (
        "[외국인등록번호] / [사업자등록번호] / [카드번호] / [계좌번호]"
    )


def test_mask_is_stable_and_leaves_clean_text_alone() -> None:
    clean = "매출 1,234,567원, 2024-10-15"
    assert mask_pii(clean, find_pii(clean)) == clean
    text = "010-1234-5678 그리고 010-8765-4321"
    masked = mask_pii(text, find_pii(text))
    assert masked == "[전화번호] 그리고 [전화번호]"
    assert find_pii(masked) == []


def test_mask_takes_findings_in_any_order_but_not_overlapping() -> None:
    text = "abc 010-1234-5678 def"
    findings = [Finding(PHONE, 4, 17)]
    assert mask_pii(text, findings) == "abc [전화번호] def"
    with pytest.raises(ValueError, match="overlap"):
        mask_pii(text, [Finding(PHONE, 4, 17), Finding(PHONE, 10, 12)])


def full_width(text: str) -> str:
    return text.translate({code: code + 0xFEE0 for code in b"0123456789-,@"})


def test_full_width_digits_as_some_input_methods_type_them() -> None:
    phone = full_width("010-1234-5678")
    text = f"연락처 {phone} 입니다"
    assert found(text) == [(PHONE, phone)]
    assert mask_pii(text, find_pii(text)) == "연락처 [전화번호] 입니다"
    rrn = full_width("900101-1234568")
    assert found(f"주민번호 {rrn}") == [(RRN, rrn)]
    assert found(full_width("kim@acme.co.kr")) == [(EMAIL, full_width("kim@acme.co.kr"))]
    assert found(full_width("1,234,567원 / 2024-10-15")) == []
