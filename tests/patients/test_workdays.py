"""Working days on the official calendar, checked against the State Council notices.

- 2025: 国办发明电〔2024〕12号 — 春节 1月28日–2月4日 (上班 1月26日周日, 2月8日周六); 国庆节、中秋节
  10月1日–8日 (上班 9月28日周日, 10月11日周六).
- 2026: 国办发明电〔2025〕7号 — 春节 2月15日–23日 (上班 2月14日周六, 2月28日周六); 国庆节
  10月1日–7日 (上班 9月20日周日, 10月10日周六).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.patients import workdays
from xinqiao.patients.workdays import add_working_days, is_working_day, working_days_between


def test_spring_festival_2026_is_off_and_adjusted_saturdays_are_on() -> None:
    assert is_working_day(date(2026, 2, 14))  # Saturday, 调休上班
    for d in range(15, 24):
        assert not is_working_day(date(2026, 2, d)), d
    assert is_working_day(date(2026, 2, 24))
    assert is_working_day(date(2026, 2, 28))  # Saturday, 调休上班
    assert not is_working_day(date(2026, 3, 1))  # an ordinary Sunday


def test_ten_working_days_across_spring_festival_2026() -> None:
    # Diagnosed Friday 13 Feb: Sat 14 (1), holiday 15–23, 24 25 26 27 (5), Sat 28 (6), Mar 2 3 4 5 (10).
    result = add_working_days(date(2026, 2, 13), 10)
    assert result == (date(2026, 3, 5), True)
    # Weekends alone would have given Friday 27 February.
    assert working_days_between(date(2026, 2, 13), date(2026, 3, 5)) == (10, True)


def test_national_day_2025_with_both_adjusted_weekend_days() -> None:
    assert is_working_day(date(2025, 9, 28))  # Sunday, 调休上班
    assert all(not is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert is_working_day(date(2025, 10, 11))  # Saturday, 调休上班
    # Diagnosed Friday 26 Sep: Sun 28 (1), 29, 30 (3), holiday 1–8, 9, 10 (5), Sat 11 (6), 13–16 (10).
    assert add_working_days(date(2025, 9, 26), 10) == (date(2025, 10, 16), True)


def test_national_day_2026() -> None:
    assert is_working_day(date(2026, 9, 20))  # Sunday, 调休上班
    assert all(not is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert is_working_day(date(2026, 10, 10))  # Saturday, 调休上班
    # County entry within 5 working days of receiving a paper report on Wednesday 30 September:
    # holiday 1–7, 8, 9 (2), Sat 10 (3), 12, 13 (5).
    assert add_working_days(date(2026, 9, 30), 5) == (date(2026, 10, 13), True)


def test_zero_and_negative() -> None:
    assert add_working_days(date(2026, 2, 16), 0) == (date(2026, 2, 16), True)
    assert add_working_days(date(2026, 2, 24), -1) == (date(2026, 2, 14), True)
    assert working_days_between(date(2026, 3, 5), date(2026, 2, 13)) == (-10, True)
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 13)) == (0, True)


def test_uncovered_year_falls_back_to_weekends_and_says_uncertain() -> None:
    assert not workdays.covered(2031)
    result = add_working_days(date(2031, 1, 31), 10)  # Friday
    assert result == (date(2031, 2, 14), False)
    assert working_days_between(date(2031, 1, 31), date(2031, 2, 14)) == (10, False)
    # A span that ends inside a covered year but starts in 2026 stays certain.
    assert add_working_days(date(2026, 12, 1), 3).certain


def test_extra_file_adds_a_year_and_overrides(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    data = {"years": {"2031": {"holidays": ["2031-02-03", "2031-02-04"], "workdays": ["2031-02-08"]}}}
    path = tmp_path / "extra.json"  # type: ignore[operator]
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(workdays, "EXTRA_FILE", path)
    workdays.reload()
    try:
        assert workdays.covered(2031)
        assert not is_working_day(date(2031, 2, 3))
        assert is_working_day(date(2031, 2, 8))  # a Saturday made a working day
        # Fri 31 Jan: 3 and 4 Feb off; 5, 6, 7 (3), Sat 8 (4), 10–14 (9), 17 (10).
        assert add_working_days(date(2031, 1, 31), 10) == (date(2031, 2, 17), True)
    finally:
        workdays.reload()


def test_extra_file_is_validated(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bad.json"  # type: ignore[operator]
    path.write_text(json.dumps({"years": {"2031": {"holidays": ["2031-02-03"], "workdays": ["2031-02-03"]}}}))
    monkeypatch.setattr(workdays, "EXTRA_FILE", path)
    workdays.reload()
    try:
        with pytest.raises(ValueError, match="both"):
            workdays.covered(2031)
    finally:
        workdays.reload()


def test_shipped_extra_file_loads() -> None:
    workdays.reload()
    assert isinstance(workdays.extra_calendar(), dict)


days = st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 10, 31))


@given(days, st.integers(min_value=0, max_value=40))
def test_adding_then_counting_gives_n_back(start: date, n: int) -> None:
    end, certain = add_working_days(start, n)
    assert certain
    assert end >= start
    assert working_days_between(start, end).days == n
    if n:
        assert is_working_day(end)


@given(days, st.integers(min_value=1, max_value=40))
def test_never_shorter_than_calendar_days(start: date, n: int) -> None:
    end = add_working_days(start, n).date
    assert end - start >= timedelta(days=n)
