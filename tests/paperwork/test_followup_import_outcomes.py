"""Importing failed attempts (随访失败) and deaths with the visits, and the notices of a committed import.

The rows are checked by the form's own rules (``followups.services.followup_errors`` and its
``_death_errors``), so the import and the single form agree; three failed attempts in a row give
the same 失访 prompt; after commit the police, overdue and referral notices go out as the form
(and the work-list job) would send them. Files are real .xlsx built with openpyxl.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.paperwork.factories import csv_bytes, sheet_bytes
from tests.patients.factories import PatientFactory, clinic_of
from tests.referrals.factories import network
from xinqiao.core.models import Notification, Region
from xinqiao.followups import services
from xinqiao.followups.models import FollowUp
from xinqiao.followups.services import FollowUpInput
from xinqiao.paperwork.followup_import import COLUMNS
from xinqiao.paperwork.services import import_spreadsheet
from xinqiao.paperwork.workbooks import build_template
from xinqiao.patients.models import StatusChange
from xinqiao.referrals.models import Referral
from xinqiao.worklists.rules import prompt_lost


@pytest.fixture(autouse=True)
def _chinese(towns: list[Region]) -> None:
    translation.activate("zh-hans")
    clinic_of(towns[0])


def make_patient(**kwargs: Any) -> Any:
    """A managed patient of the register's factory (typed loosely for the checker)."""
    return PatientFactory(**kwargs)


def visit(patient: Any, **overrides: Any) -> dict[str, Any]:
    """A stable home visit of ``patient`` on 2026-01-10 (every required item filled)."""
    row: dict[str, Any] = {
        "id_number": patient.person.id_number, "followup_date": "2026-01-10", "method": "2 家庭访视",
        "danger_level": "0", "insight": "1", "sleep": "1", "diet": "1", "self_care": "1", "housework": "1",
        "work": "9", "study": "1", "social": "1", "lock_status": "1", "hospital_status": "0", "lab_tests": "1",
        "adherence": "1", "adverse_reaction": "1", "treatment_effect": "2", "referral": "1", "doctor_name": "李医生",
    }
    row.update(overrides)
    return row


def attempt(patient: Any, on: str, **overrides: Any) -> dict[str, Any]:
    """A phone call that did not reach ``patient`` (随访失败)."""
    row = {"id_number": patient.person.id_number, "followup_date": on, "outcome": "2 未访到", "method": "3",
           "not_reached_reason": "电话无人接听", "doctor_name": "李医生"}
    row.update(overrides)
    return row


def death(patient: Any, on: str = "2026-02-20", **overrides: Any) -> dict[str, Any]:
    row = {"id_number": patient.person.id_number, "followup_date": on, "outcome": "3", "death_date": "2026-02-15",
           "death_cause": "1", "physical_death_cause": "3", "doctor_name": "李医生"}
    row.update(overrides)
    return row


def run(actor: Any, rows: list[dict[str, Any]], name: str = "随访.xlsx", capture: Any = None) -> Any:
    content = sheet_bytes(COLUMNS, rows, text_ids=False)
    if capture is None:
        return import_spreadsheet(actor, "followups", name, content)
    with capture(execute=True):
        return import_spreadsheet(actor, "followups", name, content)


def errors_at(batch: Any) -> dict[tuple[int, str], str]:
    return {(row, column): message for row, column, message in batch.errors}


# --- Failed attempts -----------------------------------------------------------------------------------

def test_three_failed_attempts_after_the_last_visit_give_the_lost_prompt(
        cast: dict[str, Any], towns: list[Region], django_capture_on_commit_callbacks: Any) -> None:
    doctor = cast["community_doctor_a"]
    patient = make_patient(region=towns[0], responsible_doctor=doctor)
    batch = run(doctor, [
        visit(patient),
        attempt(patient, "2026-01-05"),  # before the visit: history, not counted
        attempt(patient, "2026-01-20"), attempt(patient, "2026-01-27", method="2 家庭访视", not_reached_reason="家中无人"),
        attempt(patient, "2026-02-03"),
    ], capture=django_capture_on_commit_callbacks)
    assert (batch.status, batch.rows_created, batch.errors) == ("committed", 5, [])
    stored = list(FollowUp.objects.filter(patient=patient, outcome="not_reached").order_by("followup_date"))
    assert [(f.method, f.not_reached_reason, f.classification) for f in stored[1:3]] == [
        (3, "电话无人接听", None), (2, "家中无人", None)]
    assert all(f.danger_level is None and f.actions == [] for f in stored)
    patient.refresh_from_db()
    assert patient.failed_attempts == 3 and patient.status == "managed"
    assert prompt_lost(patient.failed_attempts, 3)  # the work list's 失访 prompt
    notice = Notification.objects.get(kind=services.LOST_PROMPT, subject_id=str(patient.pk))
    assert notice.recipient_id == doctor.pk and patient.register_number in notice.title
    assert notice.dedupe_key == f"{services.LOST_PROMPT}:{patient.pk}:2026-01-10"


def test_the_form_gives_the_same_prompt_and_the_import_does_not_repeat_it(
        cast: dict[str, Any], towns: list[Region], django_capture_on_commit_callbacks: Any) -> None:
    doctor = cast["community_doctor_a"]
    patient = make_patient(region=towns[0], responsible_doctor=doctor, last_followup_date=date(2026, 1, 10))
    for day in (20, 21, 22):
        with django_capture_on_commit_callbacks(execute=True):
            services.record_followup(doctor, patient, FollowUpInput(
                followup_date=date(2026, 1, day), outcome="not_reached", method=3, not_reached_reason="关机"))
        patient.refresh_from_db()
    assert patient.failed_attempts == 3
    keys = list(Notification.objects.filter(kind=services.LOST_PROMPT).values_list("dedupe_key", flat=True))
    assert keys == [f"{services.LOST_PROMPT}:{patient.pk}:2026-01-10"]
    # One more attempt imported: counted on top of the stored ones, no second notice for the streak.
    batch = run(doctor, [attempt(patient, "2026-01-29")], capture=django_capture_on_commit_callbacks)
    assert batch.status == "committed"
    patient.refresh_from_db()
    assert patient.failed_attempts == 4
    assert Notification.objects.filter(kind=services.LOST_PROMPT).count() == 1


def test_a_loss_reason_on_the_newest_attempt_records_the_patient_lost(cast: dict[str, Any],
                                                                      towns: list[Region]) -> None:
    patient = make_patient(region=towns[0])
    batch = run(cast["community_doctor_a"], [
        visit(patient), attempt(patient, "2026-01-20"), attempt(patient, "2026-01-27"),
        attempt(patient, "2026-02-03", loss_reason="4 连续3次未访到"),
    ])
    assert batch.status == "committed"
    patient.refresh_from_db()
    assert (patient.status, patient.status_changed_on, patient.failed_attempts) == ("lost", date(2026, 2, 3), 3)
    change = StatusChange.objects.get(patient=patient)
    assert (change.from_status, change.to_status, change.loss_reason) == ("managed", "lost", 4)
    assert FollowUp.objects.get(patient=patient, followup_date=date(2026, 2, 3)).loss_reason == 4


def test_a_visit_after_an_imported_loss_brings_the_patient_back(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = make_patient(region=towns[0], status="lost", failed_attempts=3)
    batch = run(cast["community_doctor_a"], [visit(patient, followup_date="2026-03-01")])
    assert batch.status == "committed"
    patient.refresh_from_db()
    assert (patient.status, patient.failed_attempts) == ("managed", 0)
    assert StatusChange.objects.get(patient=patient).to_status == "managed"


def test_attempt_rows_are_checked_like_the_form(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = make_patient(region=towns[0])
    in_hospital = make_patient(region=towns[0], status="in_hospital")
    batch = run(cast["community_doctor_a"], [
        attempt(patient, "2026-01-20", not_reached_reason=None),          # row 2: the reason is required
        attempt(patient, "2026-01-21", method=None),                      # row 3: the method tried
        attempt(patient, "2026-01-22", danger_level="3"),                 # row 4: a visit's item
        visit(patient, followup_date="2026-01-23", loss_reason="4"),      # row 5: only for outcome 2
        attempt(in_hospital, "2026-01-24", loss_reason="1"),              # row 6: 住院 → 失访 not allowed
        attempt(patient, "2026-01-25", outcome="7"),                      # row 7: no such outcome
    ])
    assert batch.status == "rejected" and not FollowUp.objects.exists()
    found = errors_at(batch)
    assert found[(2, "未访到原因")] == "请说明未访到的原因。"
    assert found[(3, "随访方式")] == "必填项，不能为空。"
    assert found[(4, "危险性评估")] == "请留空：本次未访视患者（随访结果 2）。"
    assert found[(5, "失访原因")] == "只有未访到患者的随访（随访结果 2）填写此列。"
    assert found[(6, "失访原因")] == "当前状态下不能进行此项状态变更。"
    assert (7, "随访结果") in found
    assert sorted({row for row, _column in found}) == [2, 3, 4, 5, 6, 7]
    assert [column for row, column in found if row == 7] == ["随访结果"]  # nothing else guessed


# --- Deaths --------------------------------------------------------------------------------------------

def test_a_death_row_records_the_death_and_ends_the_follow_up(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = make_patient(region=towns[0], next_followup_due=date(2026, 2, 1),
                             awaiting_first_visit_since=date(2026, 1, 5))
    batch = run(cast["community_doctor_a"], [visit(patient), death(patient)])
    assert (batch.status, batch.rows_created) == ("committed", 2)
    fu = FollowUp.objects.get(patient=patient, outcome="dead")
    assert (fu.death_date, fu.death_cause, fu.physical_death_cause) == (date(2026, 2, 15), 1, 3)
    assert fu.classification is None and fu.symptoms == []
    patient.refresh_from_db()
    assert (patient.status, patient.status_changed_on) == ("dead", date(2026, 2, 20))
    assert patient.next_followup_due is None and patient.awaiting_first_visit_since is None
    assert patient.last_followup_date == date(2026, 1, 10)  # the last visit
    change = StatusChange.objects.get(patient=patient)
    assert (change.to_status, change.death_date, change.death_cause, change.physical_death_cause) == (
        "dead", date(2026, 2, 15), 1, 3)


def test_death_rows_are_checked_like_the_form(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = make_patient(region=towns[0])
    other = make_patient(region=towns[0])
    third = make_patient(region=towns[0])
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    batch = run(cast["community_doctor_a"], [
        death(patient, death_cause=None, physical_death_cause=None),      # row 2: cause required
        death(other, physical_death_cause=None),                          # row 3: cause 1 needs the illness
        death(third, death_cause="2"),                                    # row 4: sub-code only for cause 1
        death(third, on="2026-03-01", death_date=future, physical_death_cause=None, death_cause="2"),  # row 5
        visit(other, death_date="2026-01-01"),                            # row 6: a death's item on a visit
    ])
    assert batch.status == "rejected" and not FollowUp.objects.exists()
    found = errors_at(batch)
    assert found[(2, "死亡原因")] == "必填项，不能为空。"
    assert found[(3, "躯体疾病（死亡原因1）")] == "死于躯体疾病时请选择具体疾病。"
    assert found[(4, "躯体疾病（死亡原因1）")] == "仅死亡原因为躯体疾病（1）时填写此项。"
    assert found[(5, "死亡日期")] == "日期不能晚于今天。"
    assert found[(6, "死亡日期")] == "只有死亡（随访结果 3）填写此列。"


def test_no_follow_up_after_the_death(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = make_patient(region=towns[0])
    batch = run(cast["community_doctor_a"], [death(patient), visit(patient, followup_date="2026-03-01")])
    assert batch.status == "rejected"
    assert errors_at(batch)[(3, "随访日期")] == "第 2 行记录了该患者在更早日期的死亡：其后不能再有随访。"


# --- Notices after commit --------------------------------------------------------------------------------

def test_a_current_unstable_visit_informs_the_police_and_opens_the_referral(
        cast: dict[str, Any], towns: list[Region], django_capture_on_commit_callbacks: Any) -> None:
    net = network(cast, towns)
    doctor = cast["community_doctor_a"]
    patient = make_patient(region=towns[0], registered_on=date(2025, 1, 5))
    recent = timezone.localdate() - timedelta(days=3)
    batch = run(doctor, [
        visit(patient, followup_date="2025-06-01", danger_level="4"),   # history: nobody is told again
        visit(patient, followup_date=recent.isoformat(), danger_level="3", symptoms="1,7"),
    ], capture=django_capture_on_commit_callbacks)
    assert batch.status == "committed", batch.errors
    old, new = FollowUp.objects.filter(patient=patient).order_by("followup_date")
    assert not old.police_notified and new.police_notified and old.needs_referral and new.needs_referral
    police = Notification.objects.filter(kind="followup_police")
    assert [(n.recipient_id, n.dedupe_key) for n in police] == [
        (cast["police_a"].pk, f"followup:{new.pk}:police:{cast['police_a'].pk}")]
    ref = Referral.objects.get(patient=patient)
    assert (ref.followup_id, ref.to_organisation, ref.urgency) == (new.pk, net["hospital_a"], "urgent")
    assert Notification.objects.filter(kind="referral_sent", subject_id=str(ref.pk)).count() == 1
    info = services.referral_of(doctor, new)
    assert info is not None and info["id"] == ref.pk and info["opened"]
    # Not overdue: the plan of the new visit still runs.
    assert not Notification.objects.filter(kind="followup_overdue").exists()


def test_an_imported_visit_whose_next_date_passed_sends_the_overdue_notice_once(
        cast: dict[str, Any], towns: list[Region], django_capture_on_commit_callbacks: Any) -> None:
    from xinqiao.worklists.flagging import flag_all

    doctor = cast["community_doctor_a"]
    patient = make_patient(region=towns[0], responsible_doctor=doctor)
    batch = run(doctor, [visit(patient, danger_level="3")], capture=django_capture_on_commit_callbacks)
    assert batch.status == "committed"
    assert not Notification.objects.filter(kind="followup_police").exists()  # history
    assert not Referral.objects.exists()
    notice = Notification.objects.get(kind="followup_overdue", subject_id=str(patient.pk))
    assert notice.recipient_id == doctor.pk and notice.dedupe_key == f"followup_overdue:{patient.pk}:2026-01-24"
    flag_all()  # the morning job finds the same notice already sent
    assert Notification.objects.filter(kind="followup_overdue", subject_id=str(patient.pk)).count() == 1


# --- Files -------------------------------------------------------------------------------------------------

def test_reimport_of_the_same_file_is_refused_and_same_rows_are_skipped(cast: dict[str, Any],
                                                                        towns: list[Region]) -> None:
    patient = make_patient(region=towns[0])
    rows = [visit(patient), attempt(patient, "2026-01-20"), death(patient)]
    content = sheet_bytes(COLUMNS, rows, text_ids=False)
    doctor = cast["community_doctor_a"]
    assert import_spreadsheet(doctor, "followups", "随访.xlsx", content).status == "committed"
    assert import_spreadsheet(doctor, "followups", "另一份.xlsx", content).status == "duplicate"  # by hash
    # The same rows in another file: skipped, although the patient has died since.
    content = csv_bytes(COLUMNS, rows)
    batch = import_spreadsheet(cast["community_doctor_a"], "followups", "随访.csv", content)
    assert (batch.status, batch.rows_created, batch.rows_skipped) == ("committed", 0, 3)
    assert FollowUp.objects.filter(patient=patient).count() == 3


def test_the_template_has_the_outcome_columns_and_their_codes(towns: list[Region]) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(build_template(COLUMNS, rows=5)))
    data, legend = wb.worksheets[0], wb.worksheets[1]
    heads = [c.value for c in data[1]]
    for text in ("随访结果", "未访到原因", "失访原因", "死亡日期", "死亡原因", "躯体疾病（死亡原因1）"):
        assert text in heads
    assert "危险性评估" in heads and "危险性评估*" not in heads  # required for a visit only
    codes = {(row[0], row[1]) for row in legend.iter_rows(min_row=3, values_only=True)}
    assert {("随访结果", "1"), ("随访结果", "2"), ("随访结果", "3"), ("失访原因", "4"), ("死亡原因", "6")} <= codes


# --- The import and the form agree ---------------------------------------------------------------------

_STEP = st.sampled_from(["visit", "unstable", "in_hospital", "not_reached", "lost", "dead"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(steps=st.lists(_STEP, min_size=1, max_size=5))
def test_a_history_imported_leaves_the_patient_as_the_form_does(
        cast: dict[str, Any], towns: list[Region], steps: list[str]) -> None:
    """The same follow-ups, one by one through the form for one patient and as one file for another,
    leave both with the same work-list columns, failed attempts and status."""
    from dataclasses import replace

    from tests.followups.factories import STABLE_VISIT

    doctor = cast["community_doctor_a"]
    by_form, by_file = make_patient(region=towns[0]), make_patient(region=towns[0])
    rows: list[dict[str, Any]] = []
    on = date(2026, 2, 2)
    for n, step in enumerate(steps):
        on += timedelta(days=14)
        if step == "dead":
            data = FollowUpInput(followup_date=on, outcome="dead", death_date=on - timedelta(days=2), death_cause=2)
            rows.append(death(by_file, on.isoformat(), death_date=(on - timedelta(days=2)).isoformat(),
                              death_cause="2", physical_death_cause=None))
        elif step in ("not_reached", "lost"):
            loss = 4 if step == "lost" else None
            data = FollowUpInput(followup_date=on, outcome="not_reached", method=3, not_reached_reason="电话无人接听",
                                 loss_reason=loss)
            rows.append(attempt(by_file, on.isoformat(), loss_reason=str(loss) if loss else None))
        else:
            changes: dict[str, Any] = {"symptoms_marked": step == "unstable",
                                       "hospital_status": 1 if step == "in_hospital" else 0}
            data = replace(STABLE_VISIT, followup_date=on, medications=(), **changes)
            rows.append(visit(by_file, followup_date=on.isoformat(), symptoms_marked="是" if changes["symptoms_marked"]
                              else "否", hospital_status=str(changes["hospital_status"])))
        by_form.refresh_from_db()
        try:
            services.record_followup(doctor, by_form, data, key=f"agree-{by_form.pk}-{n}")
        except Exception as exc:  # the form refuses it (e.g. 住院 → 失访): so must the import
            refused = run(doctor, rows)
            assert refused.status == "rejected", (steps, exc)
            return
    batch = run(doctor, rows)
    assert batch.status == "committed", (steps, batch.errors)
    by_form.refresh_from_db()
    by_file.refresh_from_db()
    fields = ("status", "status_changed_on", "last_followup_date", "last_classification", "next_followup_due",
              "danger_level", "failed_attempts")
    assert {f: getattr(by_file, f) for f in fields} == {f: getattr(by_form, f) for f in fields}, steps
