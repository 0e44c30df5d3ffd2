"""Cell parsers and header matching: every spelling a person or a drop-down writes gives the code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.paperwork.columns import BOOL, CODE, CODES, COUNT, DATE, DECIMAL, Column, match_header
from xinqiao.paperwork.followup_import import COLUMNS as FOLLOWUP_COLUMNS
from xinqiao.paperwork.patient_import import COLUMNS as PATIENT_COLUMNS
from xinqiao.patients.codes import DangerLevel, FollowUpMethod, Symptom

CODED = [c for c in (*PATIENT_COLUMNS, *FOLLOWUP_COLUMNS) if c.kind in (CODE, CODES)]


@pytest.fixture(autouse=True)
def _chinese() -> None:
    translation.activate("zh-hans")


def parse(column: Column, value: object) -> tuple[object, str | None]:
    return column.parser()(value)


METHOD = Column("method", "随访方式", CODE, choices=FollowUpMethod)


@pytest.mark.parametrize("cell", ["2", "2 家庭访视", "2-家庭访视", "２", "2.0", " 2 ", "家庭访视", "home visit", 2])
def test_code_spellings(cell: object) -> None:
    with translation.override("zh-hans"):
        label = str(FollowUpMethod.HOME.label)
    cell = cell.replace("家庭访视", label) if isinstance(cell, str) else cell
    assert parse(METHOD, cell) == (2, None)


def test_unknown_code_message_lists_the_codes() -> None:
    assert parse(METHOD, "7") == (None, "代码“7”无效，可填代码：1、2、3。")


def test_zero_is_a_code() -> None:
    column = Column("danger_level", "危险性", CODE, choices=DangerLevel)
    assert parse(column, "0") == (0, None)
    assert parse(column, "0 0级") == (0, None)


def test_several_codes() -> None:
    column = Column("symptoms", "症状", CODES, choices=Symptom)
    assert parse(column, "1,3、10，3；12") == ([1, 3, 10, 12], None)
    assert parse(column, "1 13") == (None, "代码“13”无效，可填代码：1、2、3、4、5、6、7、8、9、10、11、12。")


@pytest.mark.parametrize(("cell", "day"), [
    ("2024-03-05", date(2024, 3, 5)), ("2024/3/5", date(2024, 3, 5)), ("2024年3月5日", date(2024, 3, 5)),
    ("20240305", date(2024, 3, 5)), ("2024.03.05", date(2024, 3, 5)), (date(2024, 3, 5), date(2024, 3, 5)),
])
def test_dates(cell: object, day: date) -> None:
    assert parse(Column("d", "日期", DATE), cell) == (day, None)


def test_bad_dates() -> None:
    column = Column("d", "日期", DATE)
    assert parse(column, "2024-02-30") == (None, "日期不存在。")
    assert parse(column, "去年") == (None, "日期格式应为 YYYY-MM-DD，例如 2024-03-05。")


@pytest.mark.parametrize(("cell", "value"), [("是", True), ("否", False), ("1 是", True), ("yes", True), ("无", False),
                                             (True, True)])
def test_yes_no(cell: object, value: bool) -> None:
    assert parse(Column("b", "是否", BOOL), cell) == (value, None)


def test_counts_and_decimals() -> None:
    count = Column("n", "次数", COUNT)
    assert parse(count, "3") == (3, None)
    assert parse(count, "3.0") == (3, None)
    assert parse(count, "-1") == (None, "请填写 0 至 999 之间的整数。")
    assert parse(count, "1.5") == (None, "请填写 0 至 999 之间的整数。")
    dose = Column("dose", "剂量", DECIMAL)
    assert parse(dose, "2.5") == (Decimal("2.50"), None)
    assert parse(dose, "0") == (None, "请填写大于 0 的数字。")
    assert parse(dose, "NaN") == (None, "请填写大于 0 的数字。")


def test_text_keeps_what_was_typed_within_its_length() -> None:
    column = Column("t", "文本", max_length=4)
    assert parse(column, " 王 某 ") == ("王 某", None)
    assert parse(column, "12345") == (None, "内容过长：最多 4 个字符。")


@given(st.sampled_from(CODED), st.data())
def test_every_dropdown_text_parses_back_to_its_code(column: Column, data: st.DataObject) -> None:
    """Each text a template's drop-down offers, in either language, is read back as its code."""
    language = data.draw(st.sampled_from(["zh-hans", "en"]))
    with translation.override(language):
        options = column.options()
        texts = column.option_texts()
    index = data.draw(st.integers(0, len(options) - 1))
    value, problem = parse(column, texts[index])
    expected = options[index][0]
    assert problem is None
    assert value == ([expected] if column.kind == CODES else expected)


def test_headers_match_in_chinese_or_english_with_or_without_star() -> None:
    with translation.override("en"):
        english = [str(c.header) for c in PATIENT_COLUMNS[:3]]
    positions, missing, unknown = match_header(PATIENT_COLUMNS, ["姓名*", english[2], "备注", " 乡镇（街道）代码 * "])
    assert positions == {"name": 0, "id_number": 1, "region_code": 3}
    assert missing == ["目前诊断", "ICD-10编码"]
    assert unknown == ["备注"]
