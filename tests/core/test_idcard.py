"""Tests for xinqiao.core.idcard (GB 11643-1999 citizen identity numbers and other documents).

Pure Python: no Django settings are needed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.core.idcard import (
    CHECK_CHARACTERS,
    DOCUMENT_TYPE_CHOICES,
    DOCUMENT_TYPE_LABELS,
    ERROR_MESSAGES,
    MIN_BIRTH_DATE,
    PROVINCE_NAMES,
    WEIGHTS,
    DocumentType,
    IdCheck,
    check_digit,
    generate_resident_id,
    upgrade_legacy_id,
    validate_document,
    validate_resident_id,
)

TODAY = date(2025, 6, 30)

# The two worked examples in GB 11643-1999.
STANDARD_SAMPLE_F = "11010519491231002X"
STANDARD_SAMPLE_M = "440524188001010014"


def check(value: str, known_region: Callable[[str], bool] | None = None) -> IdCheck:
    return validate_resident_id(value, today=TODAY, known_region=known_region)


# --------------------------------------------------------------------------- check digit


def test_weights_are_powers_of_two_mod_11() -> None:
    # GB 11643-1999: W_i = 2^(i-1) mod 11, positions numbered from the right (i = 18 leftmost).
    assert WEIGHTS == tuple(pow(2, i - 1, 11) for i in range(18, 1, -1))
    assert WEIGHTS == (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def test_check_digit_standard_samples_by_hand() -> None:
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167;
    # 167 mod 11 = 2 -> "10X98765432"[2] = "X".
    assert check_digit("11010519491231002") == "X"
    # 4*7+4*9+0*10+5*5+2*8+4*4+1*2+8*1+8*6+0*3+0*7+1*9+0*10+1*5+0*8+0*4+1*2 = 195;
    # 195 mod 11 = 8 -> "10X98765432"[8] = "4".
    assert check_digit("44052418800101001") == "4"


@pytest.mark.parametrize(
    "bad",
    ["", "1234567890123456", "123456789012345678", "1101051949123100X", "１１０１０５１９４９１２３１００２"],
)
def test_check_digit_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)


# --------------------------------------------------------------------------- standard samples


def test_standard_sample_female() -> None:
    result = check(STANDARD_SAMPLE_F)
    assert result == IdCheck(
        valid=True,
        normalized=STANDARD_SAMPLE_F,
        birth_date=date(1949, 12, 31),
        sex="F",
        region_code="110105",
        error=None,
    )
    assert result.message_zh is None
    assert result.message_en is None


def test_standard_sample_male_born_1880_is_accepted() -> None:
    # The standard's second sample is born 1880-01-01; the floor (1870-01-01) keeps it valid.
    result = check(STANDARD_SAMPLE_M)
    assert result.valid
    assert result.birth_date == date(1880, 1, 1)
    assert result.sex == "M"
    assert result.region_code == "440524"
    assert MIN_BIRTH_DATE == date(1870, 1, 1)


def test_as_json_dict_valid() -> None:
    assert check(STANDARD_SAMPLE_F).as_json_dict() == {
        "valid": True,
        "normalized": "11010519491231002X",
        "birth_date": "1949-12-31",
        "sex": "F",
        "region_code": "110105",
        "error": None,
    }


def test_as_json_dict_invalid() -> None:
    assert check("110105194912310021").as_json_dict() == {
        "valid": False,
        "normalized": "110105194912310021",
        "birth_date": None,
        "sex": None,
        "region_code": "",
        "error": "checksum",
    }


# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    "raw",
    [
        "11010519491231002x",
        " 11010519491231002X ",
        "110105 19491231 002X",
        "110105\u300019491231\t002x\n",
        "１１０１０５１９４９１２３１００２ｘ",  # full-width digits from a Chinese IME
    ],
)
def test_normalisation(raw: str) -> None:
    result = check(raw)
    assert result.valid, result
    assert result.normalized == STANDARD_SAMPLE_F


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("110105194912310021", "checksum"),
        ("11010519491231002Y", "characters"),
        ("1101051949123100-2X", "characters"),
        ("11010519491231X02X", "characters"),  # X only allowed as the check character
        ("11010549123100X", "characters"),  # no X in a legacy 15-digit number
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "characters"),  # Arabic-Indic digits are not accepted
        ("1101051949123100", "length"),
        ("11010519491231002X1", "length"),
        ("12345", "length"),
    ],
)
def test_errors(raw: str, error: str) -> None:
    result = check(raw)
    assert not result.valid
    assert result.error == error
    assert result.birth_date is None
    assert result.sex is None
    assert result.region_code == ""
    assert result.message_zh == ERROR_MESSAGES[error][0]
    assert result.message_en == ERROR_MESSAGES[error][1]


def _with_check(first17: str) -> str:
    return first17 + check_digit(first17)


@pytest.mark.parametrize(
    ("first17", "error"),
    [
        ("11010519490230002", "birth_date"),  # 30 February
        ("11010519490229002", "birth_date"),  # 1949 is not a leap year
        ("11010519491301002", "birth_date"),  # month 13
        ("11010519491200002", "birth_date"),  # day 0
        ("11010518691231002", "birth_date"),  # before 1870-01-01
        ("11010500000101002", "birth_date"),  # year 0
        ("11010520250701002", "birth_date_future"),  # the day after TODAY
        ("11010530000101002", "birth_date_future"),
        ("00010519491231002", "region"),
        ("16010519491231002", "region"),
        ("20010519491231002", "region"),
        ("47010519491231002", "region"),
        ("72010519491231002", "region"),
        ("91010519491231002", "region"),  # 9 is the foreigners' prefix, not a province
    ],
)
def test_checksum_correct_but_invalid(first17: str, error: str) -> None:
    result = check(_with_check(first17))
    assert (result.valid, result.error) == (False, error)
    assert result.normalized == _with_check(first17)


def test_leap_day_and_today_are_valid() -> None:
    assert check(_with_check("11010520000229002")).birth_date == date(2000, 2, 29)
    assert check(_with_check("11010520250630002")).birth_date == TODAY
    assert check(_with_check("11010518700101002")).birth_date == MIN_BIRTH_DATE


def test_default_today_rejects_future_and_accepts_past() -> None:
    far_future = generate_resident_id("110105", date.today() + timedelta(days=800), 2)  # noqa: DTZ011
    assert validate_resident_id(far_future).error == "birth_date_future"
    assert validate_resident_id(STANDARD_SAMPLE_F).valid


@pytest.mark.parametrize("province", sorted(PROVINCE_NAMES))
def test_every_listed_province_is_accepted(province: str) -> None:
    assert check(_with_check(f"{province}010519491231002")).valid


def test_province_list_matches_gb_t_2260() -> None:
    expected = [
        *range(11, 16),  # 华北
        *range(21, 24),  # 东北
        *range(31, 38),  # 华东
        *range(41, 47),  # 中南
        *range(50, 55),  # 西南
        *range(61, 66),  # 西北
        71,  # 台湾
        81,  # 香港
        82,  # 澳门
        83,  # 台湾居民居住证
    ]
    assert sorted(PROVINCE_NAMES) == [str(code) for code in expected]


def test_known_region_callable() -> None:
    seen: list[str] = []

    def known(code: str) -> bool:
        seen.append(code)
        return code == "110105"

    assert check(STANDARD_SAMPLE_F, known_region=known).valid
    result = check(STANDARD_SAMPLE_M, known_region=known)
    assert (result.valid, result.error) == (False, "region_unknown")
    assert seen == ["110105", "440524"]
    # Without the callable, an unknown (e.g. abolished) county code is fine.
    assert check(_with_check("11019919491231002")).valid


def test_known_region_not_consulted_for_structurally_invalid_numbers() -> None:
    def explode(code: str) -> bool:
        raise AssertionError(code)

    assert check("110105194912310021", known_region=explode).error == "checksum"


# --------------------------------------------------------------------------- 15-digit legacy numbers


def test_legacy_upgrade_of_standard_sample() -> None:
    # 110105 491231 002 -> insert "19" -> 110105 19491231 002, check digit "X" (worked above).
    assert upgrade_legacy_id("110105491231002") == STANDARD_SAMPLE_F
    result = check("110105491231002")
    assert result.valid
    assert result.normalized == STANDARD_SAMPLE_F
    assert result.birth_date == date(1949, 12, 31)
    assert result.sex == "F"


def test_legacy_upgrade_worked_by_hand() -> None:
    # 440524 800101 001 -> 44052419800101001 + check.
    # 4*7+4*9+0*10+5*5+2*8+4*4+1*2+9*1+8*6+0*3+0*7+1*9+0*10+1*5+0*8+0*4+1*2
    #   = 28+36+0+25+16+16+2+9+48+0+0+9+0+5+0+0+2 = 196; 196 mod 11 = 9 -> "10X98765432"[9] = "3".
    assert upgrade_legacy_id("440524800101001") == "440524198001010013"
    result = check(" 440524 800101 001 ")
    assert result == IdCheck(
        valid=True,
        normalized="440524198001010013",
        birth_date=date(1980, 1, 1),
        sex="M",
        region_code="440524",
        error=None,
    )


def test_legacy_invalid_date_and_region() -> None:
    assert check("110105490230002").error == "birth_date"
    assert check("990105491231002").error == "region"
    # Errors on legacy numbers report the upgraded form as "normalized".
    assert check("110105490230002").normalized == "11010519490230002" + check_digit("11010519490230002")


@pytest.mark.parametrize("bad", ["11010549123100", "11010549123100X", "1101054912310021"])
def test_upgrade_legacy_id_rejects_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        upgrade_legacy_id(bad)


# --------------------------------------------------------------------------- generator


def test_generate_resident_id_examples() -> None:
    assert generate_resident_id("110105", date(1949, 12, 31), 2) == STANDARD_SAMPLE_F
    assert generate_resident_id("440524", date(1880, 1, 1), 1) == STANDARD_SAMPLE_M
    assert generate_resident_id("310104", date(2000, 2, 29), 13) == "310104200002290137"


@pytest.mark.parametrize(
    ("region", "birth", "seq"),
    [
        ("11010", date(1990, 1, 1), 1),
        ("1101055", date(1990, 1, 1), 1),
        ("11010A", date(1990, 1, 1), 1),
        ("110105", date(1990, 1, 1), -1),
        ("110105", date(1990, 1, 1), 1000),
        ("110105", date(999, 1, 1), 1),
    ],
)
def test_generate_resident_id_rejects_bad_input(region: str, birth: date, seq: int) -> None:
    with pytest.raises(ValueError):
        generate_resident_id(region, birth, seq)


# --------------------------------------------------------------------------- other documents


def test_document_types_and_labels() -> None:
    assert [t.value for t in DocumentType] == [
        "resident_id",
        "passport",
        "hk_macao_permit",
        "taiwan_permit",
        "foreign_permanent",
        "other",
    ]
    assert isinstance(DocumentType.RESIDENT_ID, str)
    assert str(DocumentType.RESIDENT_ID) == "resident_id"
    assert set(DOCUMENT_TYPE_LABELS) == set(DocumentType)
    assert DOCUMENT_TYPE_LABELS["resident_id"] == "居民身份证"
    assert DOCUMENT_TYPE_LABELS[DocumentType.PASSPORT] == "护照"
    assert DOCUMENT_TYPE_LABELS["foreign_permanent"] == "外国人永久居留身份证"
    assert dict(DOCUMENT_TYPE_CHOICES) == {t.value: DOCUMENT_TYPE_LABELS[t] for t in DocumentType}


def test_error_messages_are_bilingual() -> None:
    for code, (zh, en) in ERROR_MESSAGES.items():
        assert code and zh and en
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
        assert en.isascii()


def test_validate_document_resident_id_delegates() -> None:
    assert validate_document("resident_id", "11010519491231002x") == validate_resident_id(STANDARD_SAMPLE_F)
    assert validate_document(DocumentType.RESIDENT_ID, "110105194912310021").error == "checksum"


@pytest.mark.parametrize(
    ("doc_type", "number", "normalized"),
    [
        ("passport", "e12345678", "E12345678"),
        ("passport", " G 1234 5678 ", "G12345678"),
        ("passport", "AB123", "AB123"),
        ("passport", "A" * 17, "A" * 17),
        ("hk_macao_permit", "H12345678", "H12345678"),
        ("hk_macao_permit", "m1234567801", "M1234567801"),
        ("taiwan_permit", "12345678", "12345678"),
        ("taiwan_permit", "1234567890", "1234567890"),
        ("foreign_permanent", "usa310083901234", "USA310083901234"),
        # 2023 format: 9 + 16 digits + GB 11643 check digit.
        # 9*7+1*9+5*10+6*5+3*8+0*4+1*2+9*1+9*6+0*3+0*7+1*9+0*10+1*5+0*8+0*4+1*2 = 257;
        # 257 mod 11 = 4 -> "10X98765432"[4] = "8".
        ("foreign_permanent", "915630199001010018", "915630199001010018"),
        ("other", "  军官证 No. 123  ", "军官证 No. 123"),
        ("other", "x", "x"),
        ("other", "9" * 32, "9" * 32),
    ],
)
def test_validate_document_valid_without_personal_data(doc_type: str, number: str, normalized: str) -> None:
    result = validate_document(doc_type, number)
    assert result == IdCheck(
        valid=True, normalized=normalized, birth_date=None, sex=None, region_code="", error=None
    )


@pytest.mark.parametrize(
    ("doc_type", "number", "birth", "sex", "region"),
    [
        # 8*7+1*9+0+0+0+0+1*2+9*1+9*6+0*3+0*7+1*9+0*10+1*5+0*8+0*4+1*2 = 146; 146 mod 11 = 3 -> "9".
        ("hk_macao_permit", "810000199001010019", date(1990, 1, 1), "M", "810000"),
        ("hk_macao_permit", "820000198506150022", date(1985, 6, 15), "F", "820000"),
        ("taiwan_permit", "830000200002290138", date(2000, 2, 29), "M", "830000"),
    ],
)
def test_residence_permits_derive_personal_data(
    doc_type: str, number: str, birth: date, sex: str, region: str
) -> None:
    result = validate_document(doc_type, number)
    assert result.valid
    assert (result.birth_date, result.sex, result.region_code) == (birth, sex, region)


@pytest.mark.parametrize(
    ("doc_type", "number", "error"),
    [
        ("passport", "", "empty"),
        ("passport", "E123", "length"),
        ("passport", "E" * 18, "length"),
        ("passport", "E-1234567", "characters"),
        ("passport", "É12345678", "characters"),
        ("hk_macao_permit", "H1234567", "format"),
        ("hk_macao_permit", "H123456789", "format"),
        ("hk_macao_permit", "X12345678", "format"),
        ("hk_macao_permit", "12345678", "format"),
        ("hk_macao_permit", "810000199001010010", "checksum"),
        # A valid mainland number is not a Hong Kong/Macao residence permit.
        ("hk_macao_permit", STANDARD_SAMPLE_F, "format"),
        ("hk_macao_permit", "830000200002290138", "format"),
        ("taiwan_permit", "1234567", "format"),
        ("taiwan_permit", "123456789", "format"),
        ("taiwan_permit", "T12345678", "format"),
        ("taiwan_permit", "810000199001010019", "format"),
        ("taiwan_permit", "830000200002290130", "checksum"),
        ("foreign_permanent", "US3100839012345", "format"),
        ("foreign_permanent", "USA31008390123", "format"),
        ("foreign_permanent", "915630199001010019", "checksum"),
        ("foreign_permanent", "815630199001010018", "format"),
        ("foreign_permanent", "", "empty"),
        ("other", "   ", "empty"),
        ("other", "a" * 33, "length"),
        ("other", "abc\x00def", "characters"),
        ("other", "abc\ndef", "characters"),
        ("nonsense", "12345678", "document_type"),
    ],
)
def test_validate_document_errors(doc_type: str, number: str, error: str) -> None:
    result = validate_document(doc_type, number)
    assert (result.valid, result.error) == (False, error)
    assert (result.birth_date, result.sex, result.region_code) == (None, None, "")
    assert result.message_zh == ERROR_MESSAGES[error][0]


# --------------------------------------------------------------------------- property tests

provinces = st.sampled_from(sorted(PROVINCE_NAMES))
region_codes = st.builds(lambda p, rest: f"{p}{rest:04d}", provinces, st.integers(0, 9999))
birth_dates = st.dates(min_value=MIN_BIRTH_DATE, max_value=TODAY)
seqs = st.integers(0, 999)


@given(region=region_codes, birth=birth_dates, seq=seqs)
def test_generated_numbers_round_trip(region: str, birth: date, seq: int) -> None:
    number = generate_resident_id(region, birth, seq)
    assert len(number) == 18
    result = check(number)
    assert result.valid, result
    assert result.normalized == number
    assert result.birth_date == birth
    assert result.sex == ("M" if seq % 2 else "F")
    assert result.region_code == region
    # Lower-case x and surrounding/inner whitespace do not change the outcome.
    assert check(f" {number[:6]} {number[6:].lower()} ") == result


@given(region=region_codes, birth=birth_dates, seq=seqs, position=st.integers(0, 17), data=st.data())
def test_any_single_character_change_is_detected(
    region: str, birth: date, seq: int, position: int, data: st.DataObject
) -> None:
    number = generate_resident_id(region, birth, seq)
    alphabet = CHECK_CHARACTERS if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from(sorted(set(alphabet) - {number[position]})))
    mutated = number[:position] + replacement + number[position + 1 :]
    result = check(mutated)
    assert not result.valid
    # MOD 11-2 detects every single-character substitution.
    assert result.error == "checksum"


@given(region=region_codes, birth=birth_dates, seq=seqs, position=st.integers(0, 15))
def test_adjacent_transpositions_are_detected(region: str, birth: date, seq: int, position: int) -> None:
    number = generate_resident_id(region, birth, seq)
    a, b = number[position], number[position + 1]
    swapped = number[:position] + b + a + number[position + 2 :]
    if a == b:
        assert check(swapped).valid
    else:
        assert check(swapped).error == "checksum"


@given(
    region=region_codes,
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    seq=seqs,
)
def test_legacy_numbers_upgrade_preserving_fields(region: str, birth: date, seq: int) -> None:
    legacy = f"{region}{birth:%y%m%d}{seq:03d}"
    assert len(legacy) == 15
    result = check(legacy)
    assert result.valid, result
    upgraded = result.normalized
    assert len(upgraded) == 18
    assert upgraded == upgrade_legacy_id(legacy) == generate_resident_id(region, birth, seq)
    assert upgraded[:6] == legacy[:6]
    assert upgraded[6:8] == "19"
    assert upgraded[8:17] == legacy[6:15]
    assert upgraded[17] == check_digit(upgraded[:17])
    assert (result.region_code, result.birth_date) == (region, birth)
    assert result.sex == ("M" if int(legacy[14]) % 2 else "F")
    # The upgraded number is itself a valid 18-digit number with the same outcome.
    assert check(upgraded) == result


@given(st.text(max_size=40))
def test_never_raises_and_json_shape_is_stable(raw: str) -> None:
    result = check(raw)
    payload = result.as_json_dict()
    assert list(payload) == ["valid", "normalized", "birth_date", "sex", "region_code", "error"]
    assert payload["valid"] is (payload["error"] is None)
    if result.valid:
        assert len(result.normalized) == 18
    for doc_type in DocumentType:
        other = validate_document(doc_type, raw)
        assert other.valid is (other.error is None)
        assert other.error is None or other.error in ERROR_MESSAGES
