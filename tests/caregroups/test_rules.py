"""Seats of the groups (DOMAIN.md §7) and minutes without identity (精神卫生法 Art.4), no database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from xinqiao.caregroups import rules
from xinqiao.core import idcard

COMPREHENSIVE = {"zongzhi", "health", "police", "civil_affairs", "justice", "disabled_federation", "ageing"}
CARE_EXTRA = {"grid_worker", "prevention_doctor", "station_police", "village_cadre", "family"}


def test_the_comprehensive_group_has_the_seven_agencies() -> None:
    assert {r.code for r in rules.roles_for_kind("comprehensive")} == COMPREHENSIVE


def test_the_care_group_adds_grid_worker_doctor_officer_cadres_and_family() -> None:
    assert {r.code for r in rules.roles_for_kind("care")} == COMPREHENSIVE | CARE_EXTRA
    assert rules.seat_allowed("care", "family") and not rules.seat_allowed("comprehensive", "family")
    assert not rules.seat_allowed("care", "astronaut")


def test_seat_labels_in_both_languages() -> None:
    police = rules.member_roles()["station_police"]
    assert police.label("zh-hans") == "派出所民警" and police.label("en") == "police officer of the station"


def test_minutes_with_an_id_number_phone_or_name_are_found() -> None:
    number = idcard.generate_resident_id("440106", __import__("datetime").date(1980, 5, 17), 123)
    assert rules.minutes_problems(f"患者身份证{number}复诊") == ["id_number"]
    assert rules.minutes_problems("联系家属 138-1234-5678") == ["phone"]
    assert rules.minutes_problems("联系家属 +86 13812345678") == ["phone"]
    assert rules.minutes_problems("派出所电话 020-87654321") == ["phone"]
    assert rules.minutes_problems("王 小明近期拒绝服药", names=["王小明"]) == ["name"]
    assert rules.minutes_problems("讨论了三名患者的管控", names=["王小明", "李"]) == []


def test_register_numbers_are_allowed_even_when_all_digits() -> None:
    text = "登记号 4401062026000123 与 440106202600012345 的患者本月联合走访"
    assert rules.minutes_problems(text, register_numbers=["4401062026000123", "440106202600012345"]) == []
    assert rules.minutes_problems(text, register_numbers=["4401062026000123"]) == ["id_number"]


def test_full_width_digits_do_not_slip_through() -> None:
    assert rules.minutes_problems("电话１３８１２３４５６７８") == ["phone"]


@given(st.text(alphabet="登记号患者本月走访管控措施落实，。、 ", max_size=60))
def test_plain_minutes_pass(text: str) -> None:
    assert rules.minutes_problems(text, names=["王小明"]) == []
