"""Identity-document number validation (pure Python, no Django import).

The core is the citizen identity number (公民身份号码) printed on the resident
identity card (居民身份证), specified by **GB 11643-1999 《公民身份号码》**:

* 18 characters = 6-digit address code (地址码) + 8-digit birth date (出生日期码,
  ``YYYYMMDD``, GB/T 7408) + 3-digit sequence code (顺序码; the last of its digits,
  i.e. the 17th character overall, is odd for men and even for women) + 1 check
  character (校验码).
* The check character is ISO 7064 MOD 11-2: weights ``2**(18-i) mod 11`` for
  positions ``i = 1..17`` (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2);
  the weighted sum ``mod 11`` indexes ``"10X98765432"``.
* The address code is a county-level administrative division code per
  **GB/T 2260 《中华人民共和国行政区划代码》**. Numbers are issued for life, so
  codes of counties that have since been abolished or renamed remain valid on
  existing cards; by default only the two-digit province prefix is checked.
  Residence permits for Hong Kong, Macao and Taiwan residents (港澳台居民居住证)
  use the same structure with address codes 810000, 820000 and 830000.
* Legacy 15-digit numbers (GB 11643-1989: 6-digit address code, ``YYMMDD``
  birth date in the 1900s, 3-digit sequence, no check character) are upgraded to
  18 digits by inserting the century ``19`` and appending the check character.

Other documents handled by :func:`validate_document` are checked for shape only
(passports, mainland travel permits for Hong Kong/Macao/Taiwan residents, foreign
permanent-residence ID cards, whose 2023 format reuses the GB 11643 check digit).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Final, Literal, TypedDict

__all__ = [
    "CHECK_CHARACTERS",
    "DOCUMENT_TYPE_CHOICES",
    "DOCUMENT_TYPE_LABELS",
    "ERROR_MESSAGES",
    "MIN_BIRTH_DATE",
    "PROVINCE_NAMES",
    "WEIGHTS",
    "DocumentType",
    "IdCheck",
    "IdCheckJson",
    "check_digit",
    "generate_resident_id",
    "upgrade_legacy_id",
    "validate_document",
    "validate_resident_id",
]


class DocumentType(StrEnum):
    """Kinds of identity document a person may present (证件类型)."""

    RESIDENT_ID = "resident_id"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT = "foreign_permanent"
    OTHER = "other"


DOCUMENT_TYPE_LABELS: Final[dict[str, str]] = {
    DocumentType.RESIDENT_ID: "居民身份证",
    DocumentType.PASSPORT: "护照",
    DocumentType.HK_MACAO_PERMIT: "港澳居民来往内地通行证 / 港澳居民居住证",
    DocumentType.TAIWAN_PERMIT: "台湾居民来往大陆通行证 / 台湾居民居住证",
    DocumentType.FOREIGN_PERMANENT: "外国人永久居留身份证",
    DocumentType.OTHER: "其他证件",
}
"""Chinese label per document type. ``DocumentType`` members hash like their string
values, so plain strings such as ``"passport"`` work as keys too."""

DOCUMENT_TYPE_CHOICES: Final[list[tuple[str, str]]] = [
    (doc_type.value, DOCUMENT_TYPE_LABELS[doc_type]) for doc_type in DocumentType
]
"""``(value, label)`` pairs, convenient for form/model ``choices``."""

ERROR_MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "empty": ("请填写证件号码", "The document number is required."),
    "length": ("证件号码位数不正确", "The document number has the wrong length."),
    "characters": ("证件号码含有无效字符", "The document number contains invalid characters."),
    "checksum": ("证件号码校验位不正确", "The check digit of the document number is wrong."),
    "birth_date": ("证件号码中的出生日期无效", "The birth date in the number is not a valid date."),
    "birth_date_future": ("证件号码中的出生日期晚于今天", "The birth date in the number is in the future."),
    "region": ("证件号码中的省级行政区划代码无效", "The province code in the number is not valid."),
    "region_unknown": (
        "证件号码中的地址码不在行政区划代码表中",
        "The address code in the number is unknown.",
    ),
    "format": ("证件号码格式不正确", "The document number format is not valid."),
    "document_type": ("证件类型无效", "Unknown document type."),
}
"""Stable machine error code -> (Chinese message, English message)."""

WEIGHTS: Final[tuple[int, ...]] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11643-1999 weighting factors for the first 17 characters, left to right. The standard
numbers positions from the right (check character i = 1, leftmost i = 18) and sets
W_i = 2**(i-1) mod 11."""

CHECK_CHARACTERS: Final = "10X98765432"
"""Check character indexed by the weighted sum mod 11 (ISO 7064 MOD 11-2)."""

MIN_BIRTH_DATE: Final = date(1870, 1, 1)
"""Earliest accepted birth date. The standard's own sample 440524188001010014 is
born 1880-01-01, so the floor sits comfortably below it."""

PROVINCE_NAMES: Final[dict[str, str]] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省",
    "81": "香港特别行政区",
    "82": "澳门特别行政区",
    "83": "台湾地区（台湾居民居住证）",
}
"""Province-level prefixes accepted in an address code (GB/T 2260, plus 83 used by
residence permits for Taiwan residents)."""

# China has observed UTC+8 without daylight saving since 1991; a fixed offset keeps
# this module free of any tzdata dependency.
_CHINA_TZ: Final = timezone(timedelta(hours=8), "CST")

_RESIDENT_CHARS_RE: Final = re.compile(r"[0-9X]+")
_RESIDENT_18_RE: Final = re.compile(r"[0-9]{17}[0-9X]")
_DIGITS_RE: Final = re.compile(r"[0-9]+")
_PASSPORT_CHARS_RE: Final = re.compile(r"[A-Z0-9]+")
_HK_MACAO_PERMIT_RE: Final = re.compile(r"[HM](?:[0-9]{8}|[0-9]{10})")
_TAIWAN_PERMIT_RE: Final = re.compile(r"[0-9]{8}|[0-9]{10}")
_FOREIGN_OLD_RE: Final = re.compile(r"[A-Z]{3}[0-9]{12}")
_FOREIGN_NEW_RE: Final = re.compile(r"9[0-9]{16}[0-9X]")

Sex = Literal["M", "F"]


class IdCheckJson(TypedDict):
    """JSON shape of an :class:`IdCheck` (see :meth:`IdCheck.as_json_dict`)."""

    valid: bool
    normalized: str
    birth_date: str | None
    sex: str | None
    region_code: str
    error: str | None


@dataclass(frozen=True)
class IdCheck:
    """Outcome of validating a document number.

    ``normalized`` is the cleaned-up number (whitespace removed, full-width
    characters folded, upper-cased; legacy 15-digit resident numbers upgraded to
    18 digits). ``birth_date``, ``sex`` and ``region_code`` are only filled in for
    valid numbers whose structure carries them (GB 11643-1999 numbers, including
    Hong Kong/Macao/Taiwan residence permits). ``error`` is a stable machine code,
    a key of :data:`ERROR_MESSAGES`, or ``None`` when valid.
    """

    valid: bool
    normalized: str
    birth_date: date | None = None
    sex: str | None = None
    region_code: str = ""
    error: str | None = None

    @property
    def message_zh(self) -> str | None:
        """Chinese explanation of :attr:`error`, or ``None`` when valid."""
        return ERROR_MESSAGES[self.error][0] if self.error else None

    @property
    def message_en(self) -> str | None:
        """English explanation of :attr:`error`, or ``None`` when valid."""
        return ERROR_MESSAGES[self.error][1] if self.error else None

    def as_json_dict(self) -> IdCheckJson:
        """Return exactly the keys ``valid``, ``normalized``, ``birth_date``
        (``"YYYY-MM-DD"`` or ``None``), ``sex``, ``region_code`` and ``error``
        (the stable code, or ``None`` when valid)."""
        return {
            "valid": self.valid,
            "normalized": self.normalized,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "region_code": self.region_code,
            "error": self.error,
        }


def _invalid(normalized: str, error: str) -> IdCheck:
    return IdCheck(valid=False, normalized=normalized, error=error)


def _clean(value: str) -> str:
    """Fold full-width characters (NFKC), drop all whitespace and upper-case."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def _today() -> date:
    return datetime.now(_CHINA_TZ).date()


def check_digit(first17: str) -> str:
    """Return the GB 11643-1999 check character for the first 17 digits.

    ISO 7064 MOD 11-2: ``sum(a_i * W_i) mod 11`` with the weights in
    :data:`WEIGHTS`, mapped through ``"10X98765432"``.

    >>> check_digit("11010519491231002")
    'X'
    """
    if len(first17) != 17 or not _DIGITS_RE.fullmatch(first17):
        raise ValueError("check_digit() needs exactly 17 ASCII digits")
    total = sum(int(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def upgrade_legacy_id(legacy: str) -> str:
    """Upgrade a 15-digit (GB 11643-1989) number to its 18-digit form.

    The century ``19`` is inserted before the two-digit birth year and the
    GB 11643-1999 check character is appended; address and sequence codes are
    kept unchanged. The birth date itself is not validated here.

    >>> upgrade_legacy_id("110105491231002")
    '11010519491231002X'
    """
    if len(legacy) != 15 or not _DIGITS_RE.fullmatch(legacy):
        raise ValueError("a legacy resident ID number has exactly 15 ASCII digits")
    first17 = f"{legacy[:6]}19{legacy[6:]}"
    return first17 + check_digit(first17)


def _parse_birth_date(yyyymmdd: str) -> date | None:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def validate_resident_id(
    value: str,
    *,
    today: date | None = None,
    known_region: Callable[[str], bool] | None = None,
) -> IdCheck:
    """Validate a citizen identity number (公民身份号码, GB 11643-1999).

    Accepts 18-character numbers (the last may be ``X``; lower-case ``x``,
    whitespace and full-width characters are tolerated) and legacy 15-digit
    numbers, which are upgraded to 18 digits (see :func:`upgrade_legacy_id`).

    Checks, in order (error code in brackets): non-empty [``empty``], only digits
    and a final ``X`` [``characters``], 15 or 18 characters [``length``], check
    character for 18-character input [``checksum``], province prefix in
    :data:`PROVINCE_NAMES` per GB/T 2260 [``region``], a real birth date not before
    :data:`MIN_BIRTH_DATE` [``birth_date``] and not after ``today`` (default: the
    current date in China) [``birth_date_future``], and finally, only if
    ``known_region`` is given, ``known_region(region_code)`` must be true
    [``region_unknown``]. Without ``known_region`` the county part of the address
    code is not checked, because codes of abolished counties stay valid on cards
    issued before the change.
    """
    cleaned = _clean(value)
    if not cleaned:
        return _invalid(cleaned, "empty")
    if not _RESIDENT_CHARS_RE.fullmatch(cleaned):
        return _invalid(cleaned, "characters")
    if len(cleaned) not in (15, 18):
        return _invalid(cleaned, "length")
    if len(cleaned) == 15:
        if not _DIGITS_RE.fullmatch(cleaned):
            return _invalid(cleaned, "characters")
        normalized = upgrade_legacy_id(cleaned)
    else:
        if not _RESIDENT_18_RE.fullmatch(cleaned):
            return _invalid(cleaned, "characters")
        if check_digit(cleaned[:17]) != cleaned[17]:
            return _invalid(cleaned, "checksum")
        normalized = cleaned

    region_code = normalized[:6]
    if region_code[:2] not in PROVINCE_NAMES:
        return _invalid(normalized, "region")

    birth_date = _parse_birth_date(normalized[6:14])
    if birth_date is None or birth_date < MIN_BIRTH_DATE:
        return _invalid(normalized, "birth_date")
    if birth_date > (today if today is not None else _today()):
        return _invalid(normalized, "birth_date_future")

    if known_region is not None and not known_region(region_code):
        return _invalid(normalized, "region_unknown")

    sex: Sex = "M" if int(normalized[16]) % 2 == 1 else "F"
    return IdCheck(
        valid=True,
        normalized=normalized,
        birth_date=birth_date,
        sex=sex,
        region_code=region_code,
        error=None,
    )


def _validate_residence_permit(number: str, prefixes: tuple[str, ...]) -> IdCheck:
    """Validate an 18-digit Hong Kong/Macao/Taiwan residence permit number."""
    result = validate_resident_id(number)
    if result.valid and not result.normalized.startswith(prefixes):
        return _invalid(result.normalized, "format")
    return result


def _validate_passport(cleaned: str) -> IdCheck:
    if not _PASSPORT_CHARS_RE.fullmatch(cleaned):
        return _invalid(cleaned, "characters")
    if not 5 <= len(cleaned) <= 17:
        return _invalid(cleaned, "length")
    return IdCheck(valid=True, normalized=cleaned)


def _validate_hk_macao(cleaned: str) -> IdCheck:
    if len(cleaned) == 18:
        return _validate_residence_permit(cleaned, ("810000", "820000"))
    if _HK_MACAO_PERMIT_RE.fullmatch(cleaned):
        return IdCheck(valid=True, normalized=cleaned)
    return _invalid(cleaned, "format")


def _validate_taiwan(cleaned: str) -> IdCheck:
    if len(cleaned) == 18:
        return _validate_residence_permit(cleaned, ("830000",))
    if _TAIWAN_PERMIT_RE.fullmatch(cleaned):
        return IdCheck(valid=True, normalized=cleaned)
    return _invalid(cleaned, "format")


def _validate_foreign_permanent(cleaned: str) -> IdCheck:
    if _FOREIGN_OLD_RE.fullmatch(cleaned):
        return IdCheck(valid=True, normalized=cleaned)
    if _FOREIGN_NEW_RE.fullmatch(cleaned):
        # The 2023 card reuses the GB 11643-1999 MOD 11-2 check character.
        if check_digit(cleaned[:17]) != cleaned[17]:
            return _invalid(cleaned, "checksum")
        return IdCheck(valid=True, normalized=cleaned)
    return _invalid(cleaned, "format")


def _validate_other(value: str) -> IdCheck:
    stripped = value.strip()
    if not stripped:
        return _invalid(stripped, "empty")
    if not stripped.isprintable():
        return _invalid(stripped, "characters")
    if len(stripped) > 32:
        return _invalid(stripped, "length")
    return IdCheck(valid=True, normalized=stripped)


def validate_document(doc_type: str, number: str) -> IdCheck:
    """Validate ``number`` as a document of kind ``doc_type`` (a :class:`DocumentType` value).

    * ``resident_id``: :func:`validate_resident_id` (GB 11643-1999).
    * ``passport``: 5–17 ASCII letters/digits (upper-cased).
    * ``hk_macao_permit``: 港澳居民来往内地通行证 ``H``/``M`` + 8 or 10 digits, or an
      18-digit 港澳居民居住证 starting 810000/820000 (validated per GB 11643-1999).
    * ``taiwan_permit``: 台湾居民来往大陆通行证 of 8 digits (10 for older permits), or an
      18-digit 台湾居民居住证 starting 830000 (validated per GB 11643-1999).
    * ``foreign_permanent``: the 2017 format of 3 letters + 12 digits, or the 2023
      format of 18 characters starting with ``9`` whose last character is the
      GB 11643-1999 check character.
    * ``other``: 1–32 printable characters (only surrounding whitespace is stripped).

    Only GB 11643-1999-structured numbers yield ``birth_date``/``sex``/``region_code``.
    An unknown ``doc_type`` gives the error code ``document_type``.
    """
    try:
        kind = DocumentType(doc_type)
    except ValueError:
        return _invalid(_clean(number), "document_type")

    if kind is DocumentType.RESIDENT_ID:
        return validate_resident_id(number)
    if kind is DocumentType.OTHER:
        return _validate_other(number)

    cleaned = _clean(number)
    if not cleaned:
        return _invalid(cleaned, "empty")
    if kind is DocumentType.PASSPORT:
        return _validate_passport(cleaned)
    if kind is DocumentType.HK_MACAO_PERMIT:
        return _validate_hk_macao(cleaned)
    if kind is DocumentType.TAIWAN_PERMIT:
        return _validate_taiwan(cleaned)
    return _validate_foreign_permanent(cleaned)


def generate_resident_id(region_code: str, birth: date, seq: int) -> str:
    """Build an 18-digit GB 11643-1999 number with a correct check character.

    ``region_code`` is the 6-digit address code (GB/T 2260), ``birth`` the birth
    date and ``seq`` the 3-digit sequence code (0–999); its parity sets the sex
    (odd = male, even = female). The result passes :func:`validate_resident_id`
    provided the province prefix is known and the birth date lies between
    :data:`MIN_BIRTH_DATE` and today. Intended for factories and demo data.

    >>> generate_resident_id("110105", date(1949, 12, 31), 2)
    '11010519491231002X'
    """
    if len(region_code) != 6 or not _DIGITS_RE.fullmatch(region_code):
        raise ValueError("region_code must be 6 ASCII digits")
    if not 0 <= seq <= 999:
        raise ValueError("seq must be between 0 and 999")
    if not 1000 <= birth.year <= 9999:
        raise ValueError("birth year must have four digits")
    first17 = f"{region_code}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_digit(first17)
