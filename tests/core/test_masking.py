"""Tests for xinqiao.core.masking: how each category of personal data is shown masked (pure functions)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.core.masking import (
    MASKERS,
    mask,
    mask_address,
    mask_birth_date,
    mask_default,
    mask_id_number,
    mask_name,
    mask_phone,
)

NO_STAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="*")


@pytest.mark.parametrize(
    ("category", "value", "expected"),
    [
        ("identity.id_number", "440106199001011234", "4401**********1234"),
        ("identity.id_number", "11010519491231002X", "1101**********002X"),
        ("identity.id_number", "E12345678", "E123*5678"),
        ("identity.id_number", "12345678", "********"),
        ("identity.name", "张三丰", "张**"),
        ("identity.name", "张三", "张*"),
        ("identity.name", "张", "张*"),
        ("identity.name", "欧阳修文", "欧***"),
        ("contact.phone", "13812345678", "138****5678"),
        ("contact.phone", " 13812345678 ", "138****5678"),
        ("contact.phone", "020-87654321", "********4321"),
        ("contact.phone", "1234", "****"),
        ("contact.address", "广东省广州市天河区某街1号", "广东省广州市****"),
        ("contact.address", "广州市", "****"),
        ("identity.birth_date", date(1990, 1, 1), "1990-**-**"),
        ("identity.birth_date", "1990-01-01", "1990-**-**"),
        ("care.guardian", "李四", "李*"),
        ("risk.danger_level", 3, "****"),
        ("identity.sex", "female", "****"),
    ],
)
def test_examples(category: str, value: object, expected: str) -> None:
    assert mask(category, value) == expected


@pytest.mark.parametrize("category", [*MASKERS, "identity.sex", "no.such.category"])
@pytest.mark.parametrize("empty", [None, ""])
def test_empty_stays_empty(category: str, empty: object) -> None:
    assert mask(category, empty) == ""


def test_default_mask_does_not_reveal_the_length() -> None:
    assert mask_default("a") == mask_default("a much longer value") == "****"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
def test_masked_id_number_never_shows_the_middle_digits(body: str, check: str) -> None:
    value = body + check
    masked = mask_id_number(value)
    assert len(masked) == 18
    assert masked[:4] == value[:4]
    assert masked[-4:] == value[-4:]
    assert masked[4:14] == "*" * 10
    # The birth date and the rest of the middle never appear where they were.
    assert value[6:14] not in masked


@given(st.text(alphabet=NO_STAR, min_size=9, max_size=40))
def test_masked_output_never_equals_input_for_long_values(value: str) -> None:
    for masker in (mask_id_number, mask_name, mask_phone, mask_address, mask_default):
        assert masker(value) != value, masker.__name__


@given(st.text(alphabet=NO_STAR, min_size=1, max_size=40))
def test_masked_name_keeps_only_the_first_character(value: str) -> None:
    masked = mask_name(value)
    assert masked[0] == value[0]
    assert set(masked[1:]) == {"*"}
    assert len(masked) == max(len(value), 2)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_masked_mobile_hides_the_middle_four(value: str) -> None:
    masked = mask_phone(value)
    assert masked == value[:3] + "****" + value[-4:]


@given(st.dates())
def test_masked_birth_date_keeps_only_the_year(value: date) -> None:
    masked = mask_birth_date(value)
    assert masked == f"{value.isoformat()[:4]}-**-**"
    assert value.isoformat()[5:] not in masked
