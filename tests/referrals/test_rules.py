"""The referral and emergency rules as the 2018 规范 and DOMAIN.md §3–§5 state them (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.patients.rules import time_limits
from xinqiao.patients.workdays import add_working_days
from xinqiao.referrals import rules
from xinqiao.referrals.codes import ReferralAction, ReferralState


def workdays(start: date, n: int) -> date:
    return add_working_days(start, n).date


# --- Transitions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "action", "target"), [
    ("sent", "receive", "received"),
    ("sent", "decline", "declined"),
    ("received", "complete", "completed"),
])
def test_the_receiving_organisation_moves_a_referral_along(state: str, action: str, target: str) -> None:
    assert rules.transition_for(state, action, rules.RECEIVER, note="理由").target == target


@pytest.mark.parametrize(("state", "action"), [
    ("sent", "complete"),  # completed only after receipt
    ("received", "receive"),
    ("received", "decline"),  # once received, it is completed (with its outcome), not declined
    ("completed", "receive"), ("completed", "decline"), ("completed", "complete"),
    ("declined", "receive"), ("declined", "complete"), ("declined", "decline"),
])
def test_refused_transitions(state: str, action: str) -> None:
    with pytest.raises(rules.TransitionRefused) as exc:
        rules.transition_for(state, action, rules.RECEIVER, note="理由")
    assert exc.value.code == "not_allowed"


def test_the_sender_cannot_receive_its_own_referral() -> None:
    for state in rules.STATES:  # refused as the wrong side whatever the state
        with pytest.raises(rules.TransitionRefused) as exc:
            rules.transition_for(state, "receive", rules.SENDER)
        assert exc.value.code == "wrong_side"


def test_a_decline_states_its_reason() -> None:
    with pytest.raises(rules.TransitionRefused) as exc:
        rules.transition_for("sent", "decline", rules.RECEIVER, note="  ")
    assert exc.value.code == "note_required"


def test_unknown_action() -> None:
    with pytest.raises(rules.TransitionRefused) as exc:
        rules.transition_for("sent", "cancel", rules.RECEIVER)
    assert exc.value.code == "unknown_action"


def test_rule_codes_match_the_model_choices() -> None:
    assert set(rules.STATES) == set(ReferralState.values)
    assert rules.ACTIONS | {"send"} == set(ReferralAction.values)


@given(st.sampled_from(rules.STATES), st.sampled_from([*sorted(rules.ACTIONS), "cancel"]),
       st.sampled_from([rules.RECEIVER, rules.SENDER, ""]), st.text(max_size=5))
def test_every_move_is_allowed_or_refused_and_finals_are_final(state: str, action: str, side: str, note: str) -> None:
    try:
        step = rules.transition_for(state, action, side, note)
    except rules.TransitionRefused:
        return
    assert state not in rules.FINAL_STATES
    assert step.source == state and step.side == side and step.action == action
    assert step.target in rules.STATES and step.target != state
    assert action in rules.allowed_actions(state, side)


@given(st.sampled_from(rules.STATES), st.sampled_from([rules.RECEIVER, rules.SENDER, None]))
def test_allowed_actions_are_exactly_the_transitions(state: str, side: str | None) -> None:
    allowed = rules.allowed_actions(state, side)
    if state in rules.FINAL_STATES or side is None:
        assert allowed == []
    for action in allowed:
        assert rules.transition_for(state, action, side or "", note="理由").source == state


# --- Direction ---------------------------------------------------------------------------------------


def test_up_goes_from_primary_care_to_an_institution_with_a_reason() -> None:
    assert rules.direction_errors("up", "community_health_centre", "psychiatric_hospital", reason="不稳定",
                                  discharge_summary="") == {}
    assert rules.direction_errors("up", "community_health_centre", "psychiatric_hospital", reason="",
                                  discharge_summary="") == {"reason": "required"}
    assert rules.direction_errors("up", "psychiatric_hospital", "village_clinic", reason="x",
                                  discharge_summary="") == {"from_organisation": "wrong_type",
                                                            "to_organisation": "wrong_type"}


def test_down_goes_back_to_primary_care_with_the_discharge_summary() -> None:
    assert rules.direction_errors("down", "mhc_county", "township_health_centre", reason="",
                                  discharge_summary="好转") == {}
    assert rules.direction_errors("down", "general_hospital_psych", "community_health_centre", reason="",
                                  discharge_summary=" ") == {"discharge_summary": "required"}


def test_no_sender_organisation_and_same_organisation() -> None:
    assert rules.direction_errors("up", None, "psychiatric_hospital", reason="x", discharge_summary="") == {
        "from_organisation": "no_organisation"}
    assert rules.direction_errors("down", "mhc_county", "mhc_county", reason="", discharge_summary="x")[
        "to_organisation"] == "wrong_type"
    assert rules.direction_errors("sideways", "mhc_county", "village_clinic", reason="", discharge_summary="") == {
        "direction": "unknown"}


# --- Deadlines (working days of the official calendar) -----------------------------------------------------


def test_receipt_is_due_three_working_days_after_sending_across_the_spring_festival() -> None:
    # 2026: 2月15日至23日 放假, 2月14日（周六）上班 (国务院办公厅通知). Sent Friday 13 February:
    # Saturday 14th (adjusted working day), then Tuesday 24th and Wednesday 25th.
    assert time_limits()["referral_receive_working_days"] == 3
    assert rules.receive_due(date(2026, 2, 13), time_limits(), workdays) == date(2026, 2, 25)


def test_completion_is_due_ten_working_days_after_receipt_across_national_day() -> None:
    # 2026: 10月1日至7日 放假, 10月10日（周六）上班. Received Wednesday 30 September.
    assert time_limits()["referral_complete_working_days"] == 10
    assert rules.complete_due(date(2026, 9, 30), time_limits(), workdays) == date(2026, 10, 20)


def test_the_due_day_itself_is_in_time() -> None:
    due = date(2026, 3, 11)
    assert not rules.is_overdue("sent", due, None, due)
    assert rules.is_overdue("sent", due, None, due + timedelta(days=1))
    assert rules.days_overdue("sent", due, None, due + timedelta(days=4)) == 4
    assert rules.days_overdue("received", due, date(2026, 3, 20), date(2026, 3, 19)) == 0
    assert rules.days_overdue("received", due, date(2026, 3, 20), date(2026, 3, 23)) == 3


@given(st.sampled_from(sorted(rules.FINAL_STATES)), st.dates(), st.dates())
def test_a_closed_referral_is_never_overdue(state: str, due: date, today: date) -> None:
    assert not rules.is_overdue(state, due, due, today)
    assert rules.days_overdue(state, due, due, today) == 0


# --- Emergencies ------------------------------------------------------------------------------------------


def test_the_record_is_due_within_24_hours() -> None:
    hours = time_limits()["emergency_record_hours"]
    assert hours == 24
    event = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)
    assert not rules.record_is_late(event, event + timedelta(hours=24), hours)
    assert rules.record_is_late(event, event + timedelta(hours=24, seconds=1), hours)
    assert rules.record_due(event, hours) == datetime(2026, 3, 11, 22, 30, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=5))
def test_police_are_informed_from_the_threshold(level: int, threshold: int) -> None:
    assert rules.must_notify_police(level, threshold) == (level >= threshold)


def test_default_threshold_is_danger_3() -> None:
    assert [lvl for lvl in range(6) if rules.must_notify_police(lvl, 3)] == [3, 4, 5]


def test_measures_are_known_codes_and_at_least_one() -> None:
    assert rules.measures_valid([1, 5], range(1, 8))
    assert not rules.measures_valid([], range(1, 8))
    assert not rules.measures_valid([9], range(1, 8))
