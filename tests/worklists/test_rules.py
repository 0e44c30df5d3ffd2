"""The work-list rules from the standard's wording, and properties over any date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.patients.rules import time_limits
from xinqiao.worklists import rules

TODAY = date(2025, 3, 10)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


def test_limits_come_from_the_configured_time_limits() -> None:
    cfg = rules.settings()
    assert cfg.first_visit_days == time_limits()["first_visit_days_after_notice"] == 14
    assert cfg.failed_attempts_for_lost == time_limits()["failed_attempts_for_lost"] == 3
    assert cfg.due_soon_days == 7
    assert cfg.caseload_roles == {"community_doctor"}


def test_overdue_is_the_day_after_the_due_date() -> None:
    assert not rules.is_overdue(TODAY, TODAY)
    assert rules.is_overdue(TODAY - timedelta(days=1), TODAY)
    assert rules.days_overdue(TODAY - timedelta(days=1), TODAY) == 1
    assert not rules.is_overdue(None, TODAY)


def test_due_this_week_is_today_and_the_next_six_days() -> None:
    assert rules.is_due_soon(TODAY, TODAY, 7)
    assert rules.is_due_soon(TODAY + timedelta(days=6), TODAY, 7)
    assert not rules.is_due_soon(TODAY + timedelta(days=7), TODAY, 7)
    assert not rules.is_due_soon(TODAY - timedelta(days=1), TODAY, 7)


def test_first_visit_within_14_days_of_the_notice() -> None:
    since = TODAY - timedelta(days=14)
    assert rules.first_visit_deadline(since, 14) == TODAY
    assert not rules.first_visit_late(since, TODAY, 14)  # the 14th day is still in time
    assert rules.first_visit_late(since - timedelta(days=1), TODAY, 14)


def test_three_failed_attempts_in_a_row_propose_lost_to_follow_up() -> None:
    assert not rules.prompt_lost(2, 3)
    assert rules.prompt_lost(3, 3)
    assert rules.prompt_lost(4, 3)


@pytest.mark.parametrize("status", ["lost", "moved_out", "dead", "deregistered"])
def test_patients_off_management_are_on_no_list(status: str) -> None:
    for code in rules.LIST_CODES:
        assert not rules.on_list(code, status=status, due=TODAY - timedelta(days=3), classification=1,
                                 awaiting_since=TODAY - timedelta(days=30), failed_attempts=3, today=TODAY,
                                 due_soon_days=7)


def test_in_hospital_only_on_the_unstable_list() -> None:
    on = {code for code in rules.LIST_CODES
          if rules.on_list(code, status="in_hospital", due=TODAY, classification=1, awaiting_since=TODAY,
                           failed_attempts=1, today=TODAY, due_soon_days=7)}
    assert on == {"unstable"}


@given(due=dates, today=dates)
def test_a_due_date_is_overdue_or_upcoming_never_both(due: date, today: date) -> None:
    overdue = rules.is_overdue(due, today)
    soon = rules.is_due_soon(due, today, 7)
    assert not (overdue and soon)
    assert overdue == (rules.days_overdue(due, today) >= 1)
    if rules.is_due_today(due, today):
        assert soon


@given(since=dates, today=dates, limit=st.integers(min_value=1, max_value=60))
def test_late_first_visit_means_more_days_waiting_than_the_limit(since: date, today: date, limit: int) -> None:
    assert rules.first_visit_late(since, today, limit) == ((today - since).days > limit)
