"""Reporting periods: parsing, containment, stepping back, the 12-month window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.indicators import periods
from xinqiao.indicators.periods import Period, containing, parse, previous, recent, year_window


def test_parse_each_kind() -> None:
    assert parse("2026Q3") == Period("2026Q3", "quarter", date(2026, 7, 1), date(2026, 9, 30))
    assert parse("2026-02") == Period("2026-02", "month", date(2026, 2, 1), date(2026, 2, 28))
    assert parse("2024-02").end == date(2024, 2, 29)
    assert parse("2026") == Period("2026", "year", date(2026, 1, 1), date(2026, 12, 31))
    assert parse(" 2026q4 ").key == "2026Q4"


@pytest.mark.parametrize("key", ["", "2026Q5", "2026Q0", "2026-13", "2026-00", "26Q1", "2026-7", "abc", "1800"])
def test_bad_keys_name_the_period(key: str) -> None:
    with pytest.raises(ValueError, match=key.strip() or "2026Q3"):  # the message names the key, or shows the forms
        parse(key)


def test_error_is_localized() -> None:
    with translation.override("en"), pytest.raises(ValueError, match="is not a period"):
        parse("2026Q9")


def test_containing_previous_recent() -> None:
    assert containing(date(2026, 8, 15), "quarter").key == "2026Q3"
    assert containing(date(2026, 8, 15), "month").key == "2026-08"
    assert containing(date(2026, 8, 15), "year").key == "2026"
    assert previous(parse("2026Q1")).key == "2025Q4"
    assert previous(parse("2026-01"), 2).key == "2025-11"
    assert previous(parse("2026"), 3).key == "2023"
    assert [p.key for p in recent("quarter", 3, date(2026, 2, 1))] == ["2025Q3", "2025Q4", "2026Q1"]
    with pytest.raises(ValueError):
        containing(date(2026, 1, 1), "week")


def test_year_window() -> None:
    assert year_window(parse("2026Q3")) == (date(2025, 10, 1), date(2026, 9, 30))
    assert year_window(parse("2026")) == (date(2026, 1, 1), date(2026, 12, 31))
    assert year_window(parse("2026-02")) == (date(2025, 3, 1), date(2026, 2, 28))


@given(day=st.dates(min_value=date(1991, 1, 1), max_value=date(2099, 12, 31)),
       kind=st.sampled_from(periods.TYPES), n=st.integers(0, 30))
def test_periods_tile_the_calendar(day: date, kind: str, n: int) -> None:
    p = containing(day, kind)
    assert p.start <= day <= p.end
    assert parse(p.key) == p
    back = previous(p, n)
    if n:
        assert back.end < p.start
    assert previous(p, 1).end == p.start - timedelta(days=1)
    wstart, wend = year_window(p)
    assert wend == p.end and wstart <= p.start and (wend - wstart).days in (364, 365)
