"""The register's national rules from the standard's wording: ICD-10 codes, report deadlines, lifecycle."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.patients import rules
from xinqiao.patients.codes import ICD10_PREFIXES, OFF_REGISTER_STATUSES, Diagnosis, PatientStatus

# --- ICD-10 (DOMAIN.md §1) --------------------------------------------------------------------------------


@pytest.mark.parametrize(("diagnosis", "code"), [
    ("F20", "F20.0"), ("F20", "F20"), ("F25", "F25.1"), ("F22", "F22.0"), ("F31", "F31.2"), ("F31", "f31 .2"),
])
def test_each_diagnosis_takes_its_own_block(diagnosis: str, code: str) -> None:
    assert rules.icd10_errors(diagnosis, code) == []


def test_a_code_of_another_block_is_refused() -> None:
    assert rules.icd10_errors("F20", "F31.1") == [("icd10_code", "mismatch")]
    assert rules.icd10_errors("F20", "F2") == [("icd10_code", "format")]
    assert rules.icd10_errors("F20", "") == [("icd10_code", "required")]
    assert rules.icd10_errors("F32", "F32.1") == [("diagnosis", "not_six")]


def test_epilepsy_needs_g40() -> None:
    assert rules.icd10_errors("F06", "F06.2") == [("co_icd10_code", "needs_g40")]
    assert rules.icd10_errors("F06", "F06.2", "G41.0") == [("co_icd10_code", "needs_g40")]
    assert rules.icd10_errors("F06", "F06.2", "G40.3") == []


def test_retardation_needs_the_co_occurring_disorder() -> None:
    assert rules.icd10_errors("F7x", "F71") == [("co_icd10_code", "needs_co_disorder")]
    assert rules.icd10_errors("F7x", "F71", "F79") == [("co_icd10_code", "needs_co_disorder")]
    assert rules.icd10_errors("F7x", "F71", "G40.1") == [("co_icd10_code", "needs_co_disorder")]
    assert rules.icd10_errors("F7x", "F71.1", "F20.0") == []
    assert rules.icd10_errors("F7x", "F74", "F20.0") == [("icd10_code", "mismatch")]  # F74 is not a block


@given(st.sampled_from(list(Diagnosis.values)), st.integers(min_value=0, max_value=9))
def test_every_listed_prefix_with_a_subcode_is_accepted(diagnosis: str, sub: int) -> None:
    co = {"F06": "G40.9", "F7x": "F20.0"}.get(diagnosis, "")
    for prefix in ICD10_PREFIXES[diagnosis]:
        assert rules.icd10_errors(diagnosis, f"{prefix}.{sub}", co) == []


# --- Case-report deadlines (发病报告管理办法 2013; DOMAIN.md §5) -------------------------------------------


def test_online_report_due_ten_working_days_after_diagnosis_across_spring_festival() -> None:
    t = rules.case_report_timeliness(date(2026, 2, 13), entered_on=date(2026, 3, 5))
    assert (t.report_deadline, t.entry_deadline, t.late, t.certain) == (date(2026, 3, 5), None, False, True)
    assert rules.case_report_timeliness(date(2026, 2, 13), entered_on=date(2026, 3, 6)).late


def test_written_report_county_has_five_working_days_from_receipt() -> None:
    # Diagnosed Mon 21 Sep 2026; card received Wed 30 Sep; due 13 Oct (National Day, 调休 Sat 10 Oct).
    t = rules.case_report_timeliness(date(2026, 9, 21), entered_on=date(2026, 10, 13), received_on=date(2026, 9, 30))
    assert t.entry_deadline == date(2026, 10, 13)
    assert not t.late
    late = rules.case_report_timeliness(date(2026, 9, 21), entered_on=date(2026, 10, 14), received_on=date(2026, 9, 30))
    assert late.late and late.entered_late and not late.sent_late


def test_written_card_sent_late_is_late_even_if_entered_quickly() -> None:
    t = rules.case_report_timeliness(date(2026, 1, 5), entered_on=date(2026, 2, 2), received_on=date(2026, 2, 2))
    assert t.report_deadline == date(2026, 1, 19)
    assert t.late and t.sent_late and not t.entered_late


def test_limits_come_from_configuration() -> None:
    t = rules.case_report_timeliness(date(2026, 2, 13), date(2026, 3, 5),
                                     limits={"case_report_working_days": 5, "county_entry_working_days": 5})
    assert t.report_deadline == date(2026, 2, 27) and t.late  # Sat 14, 24, 25, 26, 27


def test_deadline_in_an_unknown_year_is_uncertain() -> None:
    assert not rules.case_report_timeliness(date(2031, 3, 3), date(2031, 3, 4)).certain


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 11, 1)), st.integers(min_value=0, max_value=60))
def test_deadline_is_never_before_ten_calendar_days_and_lateness_is_monotonic(diagnosed: date, wait: int) -> None:
    t = rules.case_report_timeliness(diagnosed, diagnosed + timedelta(days=wait))
    assert t.report_deadline >= diagnosed + timedelta(days=10)
    assert t.late == (diagnosed + timedelta(days=wait) > t.report_deadline)


# --- Lifecycle (data/status_transitions.json) ---------------------------------------------------------------

TODAY = date(2026, 6, 1)
S = PatientStatus


def facts(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"changed_on": TODAY, "loss_reason": None, "death_date": None, "death_cause": None,
                               "physical_death_cause": None, "destination": "", "note": ""}
    base.update(kw)
    return base


def test_dead_is_final() -> None:
    for target in S.values:
        assert rules.status_change_errors(S.DEAD, target, facts(), TODAY) == [("to_status", "not_allowed")]


def test_lost_needs_its_reason_code() -> None:
    assert rules.status_change_errors(S.MANAGED, S.LOST, facts(), TODAY) == [("loss_reason", "required")]
    assert rules.status_change_errors(S.MANAGED, S.LOST, facts(loss_reason=4), TODAY) == []


def test_death_needs_date_and_cause_and_the_physical_subcode_for_cause_1() -> None:
    assert set(rules.status_change_errors(S.MANAGED, S.DEAD, facts(), TODAY)) == {
        ("death_date", "required"), ("death_cause", "required")}
    assert rules.status_change_errors(S.MANAGED, S.DEAD, facts(death_date=TODAY, death_cause=1), TODAY) == [
        ("physical_death_cause", "required")]
    assert rules.status_change_errors(S.MANAGED, S.DEAD, facts(death_date=TODAY, death_cause=1,
                                                               physical_death_cause=3), TODAY) == []
    assert rules.status_change_errors(S.MANAGED, S.DEAD, facts(death_date=TODAY, death_cause=2,
                                                               physical_death_cause=3), TODAY) == [
        ("physical_death_cause", "only_physical")]
    assert ("death_date", "future") in rules.status_change_errors(
        S.MANAGED, S.DEAD, facts(death_date=TODAY + timedelta(days=1), death_cause=2), TODAY)


def test_moved_out_needs_where_and_deregistered_why() -> None:
    assert rules.status_change_errors(S.MANAGED, S.MOVED_OUT, facts(), TODAY) == [("destination", "required")]
    assert rules.status_change_errors(S.MANAGED, S.DEREGISTERED, facts(), TODAY) == [("note", "required")]
    assert rules.status_change_errors(S.MANAGED, S.MOVED_OUT, facts(destination="北京市"), TODAY) == []


def test_back_to_managed_from_every_status_but_dead() -> None:
    for source in (S.IN_HOSPITAL, S.LOST, S.MOVED_OUT, S.DEREGISTERED):
        assert rules.status_change_errors(source, S.MANAGED, facts(), TODAY) == [], source
    assert rules.status_change_errors(S.MANAGED, S.MANAGED, facts(), TODAY) == [("to_status", "not_allowed")]


def test_a_change_in_the_future_is_refused() -> None:
    assert rules.status_change_errors(S.MANAGED, S.IN_HOSPITAL, facts(changed_on=TODAY + timedelta(days=1)),
                                      TODAY) == [("changed_on", "future")]


def test_on_register_excludes_dead_and_moved_out_only() -> None:
    assert {s for s in S.values if not rules.on_register(s)} == set(OFF_REGISTER_STATUSES) == {S.DEAD, S.MOVED_OUT}


def test_lifecycle_file_covers_every_status() -> None:
    assert set(rules.lifecycle().transitions) == set(S.values)


def test_first_visit_within_two_weeks() -> None:
    assert rules.first_visit_due(date(2026, 2, 13)) == date(2026, 2, 27)


def test_partner_rule() -> None:
    rule = rules.sharing_rule()
    assert rule.is_partner_only({"police"}) and not rule.is_partner_only({"police", "community_doctor"})
    assert not rule.is_partner_only(set())
    assert rule.partner_may_see(3, False) and rule.partner_may_see(0, True) and not rule.partner_may_see(2, False)
