"""Importing follow-up visits (随访服务记录表) of registered patients from a spreadsheet."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from tests.paperwork.factories import sheet_bytes, wrong_check_digit
from tests.patients.factories import PatientFactory, clinic_of
from xinqiao.core.models import AuditEvent, Region
from xinqiao.followups.models import FollowUp, FollowUpMedication, MedicationCatalogue
from xinqiao.paperwork.followup_import import COLUMNS
from xinqiao.paperwork.services import import_spreadsheet
from xinqiao.patients.models import Patient, StatusChange


@pytest.fixture(autouse=True)
def _chinese(towns: list[Region]) -> None:
    translation.activate("zh-hans")
    clinic_of(towns[0])


def visit(patient: Patient, **overrides: Any) -> dict[str, Any]:
    """A stable home visit of ``patient`` on 2026-01-10 (every required item filled)."""
    row: dict[str, Any] = {
        "id_number": patient.person.id_number, "followup_date": "2026-01-10", "method": "2 家庭访视",
        "danger_level": "0", "symptoms": "", "insight": "1", "sleep": "1", "diet": "1", "self_care": "1",
        "housework": "1", "work": "9", "study": "1", "social": "1", "lock_status": "1", "hospital_status": "0",
        "lab_tests": "1", "adherence": "1", "adverse_reaction": "1", "treatment_effect": "2", "referral": "1",
        "rehab_measures": "1,4", "doctor_name": "李医生", "drug1_name": "利培酮", "drug1_times": "2", "drug1_dose": "2",
    }
    row.update(overrides)
    return row


def run(actor: Any, rows: list[dict[str, Any]], name: str = "随访.xlsx") -> Any:
    return import_spreadsheet(actor, "followups", name, sheet_bytes(COLUMNS, rows, text_ids=False))


def test_visits_are_classified_stored_and_update_the_work_list(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = PatientFactory(region=towns[0], awaiting_first_visit_since=date(2025, 12, 20),
                             next_followup_due=date(2026, 1, 3))
    rows = [
        visit(patient, followup_date="2025-10-10", danger_level="1", insight="2"),   # basically stable
        visit(patient),                                                               # stable
    ]
    before = AuditEvent.objects.count()
    batch = run(cast["community_doctor_a"], rows)
    assert (batch.status, batch.rows_created, batch.errors) == ("committed", 2, [])
    older, newer = FollowUp.objects.filter(patient=patient).order_by("followup_date")
    assert (older.proposed_classification, older.classification, older.next_followup_date) == (2, 2, date(2025, 10, 24))
    assert older.actions == ["adjust_treatment"] and older.override_reason == ""
    assert (newer.previous_classification, newer.classification) == (2, 3)
    assert newer.next_followup_date == date(2026, 4, 10) and newer.actions == ["continue_plan"]
    assert (newer.method, newer.work, newer.rehab_measures, newer.doctor_name) == (2, 9, [1, 4], "李医生")
    assert newer.township_code == towns[0].code and newer.created_by == cast["community_doctor_a"]
    line = FollowUpMedication.objects.get(followup=newer)
    assert line.drug == MedicationCatalogue.objects.get(generic_name_zh="利培酮")
    assert (line.times, line.dose, line.period, line.unit) == (2, Decimal("2.00"), "day", "mg")
    patient.refresh_from_db()
    assert (patient.last_followup_date, patient.last_classification, patient.next_followup_due) == (
        date(2026, 1, 10), 3, date(2026, 4, 10))
    assert patient.awaiting_first_visit_since is None and patient.danger_level == 0
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [(e.action, e.object_type) for e in events] == [("create", "paperwork.importbatch")]
    assert events[0].detail["created"] == 2 and events[0].detail["patients_updated"] == 1


def test_a_recorded_classification_that_departs_from_the_rules_is_kept(cast: dict[str, Any],
                                                                       towns: list[Region]) -> None:
    patient = PatientFactory(region=towns[0])
    batch = run(cast["community_doctor_a"], [
        visit(patient, danger_level="3", classification="2", next_followup_date="2026-02-10"),
        visit(patient, followup_date="2026-02-10", classification="2", override_reason="家属陪同，仍需观察"),
    ])
    assert batch.status == "committed"
    first, second = FollowUp.objects.filter(patient=patient).order_by("followup_date")
    assert (first.proposed_classification, first.classification) == (1, 2)
    assert first.override_reason == "按原始记录导入" and first.overridden
    assert (second.proposed_classification, second.classification) == (3, 2)
    assert second.override_reason == "家属陪同，仍需观察"
    assert second.next_followup_date == date(2026, 3, 10)  # basically stable twice: 1 month


def test_rows_with_errors(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = PatientFactory(region=towns[0])
    other = PatientFactory(region=towns[1])
    dead = PatientFactory(region=towns[0], status="dead")
    rows = [
        visit(patient),                                                             # row 2
        visit(patient, id_number=wrong_check_digit(patient.person.id_number)),       # row 3
        visit(other),                                                               # row 4: other county
        visit(patient, referral="2", insight=None),                                 # row 5
        visit(patient),                                                             # row 6: same date as 2
        visit(dead, followup_date="2026-01-11"),                                    # row 7: not on the register
        visit(patient, followup_date="2026-01-12", next_followup_date="2026-06-01"),  # row 8: > 3 months
        visit(patient, followup_date="2026-01-13", drug1_dose=None),                # row 9
    ]
    batch = run(cast["community_doctor_a"], rows)
    assert batch.status == "rejected"
    assert [e[:2] for e in batch.errors] == [
        [3, "证件号码"], [5, "自知力"], [5, "转诊原因"], [5, "转诊机构"], [9, "药物1每次剂量（mg）"],
        [4, "证件号码"], [7, "证件号码"], [6, "随访日期"], [8, "下次随访日期"],
    ]
    ours = {(row, column): message for row, column, message in batch.errors}
    assert ours[(3, "证件号码")] == "证件号码校验位不正确"
    assert ours[(5, "自知力")] == ours[(9, "药物1每次剂量（mg）")] == "必填项，不能为空。"
    assert ours[(4, "证件号码")] == "您的辖区内没有该证件号码的在册患者。"
    assert ours[(7, "证件号码")] == "该患者已不在册，不能记录随访。"
    assert ours[(6, "随访日期")] == "与本文件第 2 行的患者及随访日期重复。"
    assert ours[(8, "下次随访日期")] == "下次随访须在 3 个月内（每年至少随访 4 次）。"
    assert not FollowUp.objects.exists()


def test_reimport_skips_visits_already_recorded(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = PatientFactory(region=towns[0])
    rows = [visit(patient)]
    content = sheet_bytes(COLUMNS, rows, text_ids=False)
    assert import_spreadsheet(cast["community_doctor_a"], "followups", "a.xlsx", content).status == "committed"
    again = import_spreadsheet(cast["community_doctor_a"], "followups", "a.xlsx", content)
    assert again.status == "duplicate"
    rows.append(visit(patient, followup_date="2026-01-20"))
    third = run(cast["community_doctor_a"], rows, name="随访-2.xlsx")
    assert (third.status, third.rows_created, third.rows_skipped) == ("committed", 1, 1)
    assert third.notes == [[2, "该患者在此日期的随访已有记录，已跳过。"]]
    assert FollowUp.objects.filter(patient=patient).count() == 2


def test_a_visit_in_hospital_moves_the_patient_to_in_hospital(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = PatientFactory(region=towns[0])
    batch = run(cast["community_doctor_a"], [visit(patient, hospital_status="1")])
    assert batch.status == "committed"
    patient.refresh_from_db()
    assert patient.status == "in_hospital"
    change = StatusChange.objects.get(patient=patient)
    assert (change.from_status, change.to_status, change.changed_on) == ("managed", "in_hospital", date(2026, 1, 10))


def test_psychiatrists_may_import_follow_ups_but_police_may_not(cast: dict[str, Any], towns: list[Region]) -> None:
    from django.core.exceptions import PermissionDenied

    patient = PatientFactory(region=towns[0])
    with pytest.raises(PermissionDenied):
        run(cast["police_a"], [visit(patient)])
    with pytest.raises(PermissionDenied):
        run(cast["psychiatrist_a"], [visit(patient)])  # no paperwork permission (roles.json)


def test_the_untouched_template_imports_nothing(cast: dict[str, Any]) -> None:
    from xinqiao.paperwork.workbooks import build_template

    batch = import_spreadsheet(cast["community_doctor_a"], "followups", "模板.xlsx", build_template(COLUMNS, rows=5))
    assert batch.status == "rejected" and batch.notes == [[2, "已跳过模板的示例行。"]]
    assert batch.errors == [[1, "", "文件中没有数据行。"]]
