"""Importing existing patients from a spreadsheet: what one good file creates, the report of a file
with errors (exact Chinese messages naming row and column), all or nothing, and re-imports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone, translation
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from tests.factories import PersonFactory
from tests.paperwork.factories import csv_bytes, new_id_number, patient_row, sheet_bytes, wrong_check_digit
from tests.patients.factories import PatientFactory, clinic_of
from xinqiao.core import crypto
from xinqiao.core.models import AuditEvent, Person, Region
from xinqiao.paperwork import bulk
from xinqiao.paperwork.models import ImportBatch
from xinqiao.paperwork.patient_import import COLUMNS, supplement_rule_errors
from xinqiao.paperwork.services import import_spreadsheet
from xinqiao.paperwork.workbooks import build_template
from xinqiao.patients.models import Patient, PersonalSupplement, StatusChange


@pytest.fixture(autouse=True)
def _setup(towns: list[Region]) -> None:
    translation.activate("zh-hans")
    clinic_of(towns[0])
    clinic_of(towns[1])


def run(actor: Any, rows: list[dict[str, Any]], *, name: str = "患者.xlsx", commit: bool = True) -> ImportBatch:
    return import_spreadsheet(actor, "patients", name, sheet_bytes(COLUMNS, rows), commit=commit)


def test_a_valid_file_registers_every_row(cast: dict[str, Any], towns: list[Region]) -> None:
    doctor = cast["community_doctor_a"]
    rows = [patient_row(towns[0].code, name=f"导入患者{n}") for n in range(3)]
    rows[1].update({"danger_level": "3 3级", "trouble_count": "1", "last_followup_date": "2025-12-01",
                    "last_classification": "2 基本稳定", "disability_card": "是", "disability_grade": "2"})
    batch = run(doctor, rows)
    assert (batch.status, batch.rows_total, batch.rows_created, batch.errors) == ("committed", 3, 3, [])

    patients = list(Patient.objects.select_related("person").order_by("id"))
    assert len(patients) == 3
    first, second = patients[0], patients[1]
    person = first.person
    assert (person.name, person.id_number, person.phone) == ("导入患者0", rows[0]["id_number"], "13800001111")
    assert person.id_number_index == Person.id_index_for("resident_id", rows[0]["id_number"])
    assert person.birth_date is not None and person.sex in ("M", "F")
    with connection.cursor() as cursor:  # identity is stored encrypted
        cursor.execute("SELECT name FROM core_person WHERE id = %s", [person.pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("v1.") and crypto.decrypt(stored, "core.person.name") == "导入患者0"
    assert first.township_code == towns[0].code and first.county_code == towns[0].county_code
    assert first.source == "import" and first.status == "managed"
    assert first.register_number.startswith(f"{towns[0].county_code}2024") and len(first.register_number) == 16
    assert (first.diagnosis, first.icd10_code, first.diagnosed_on) == ("F20", "F20.0", date(2023, 12, 1))
    assert first.managing_organisation == clinic_of(towns[0])
    assert first.danger_level == 1 and not first.incident_history
    assert first.awaiting_first_visit_since == date(2024, 3, 1)
    assert first.next_followup_due == date(2024, 3, 15)  # first visit within 2 weeks of registration
    assert (second.danger_level, second.incident_history) == (3, True)
    assert (second.last_followup_date, second.last_classification) == (date(2025, 12, 1), 2)
    assert second.next_followup_due == date(2025, 12, 15) and second.awaiting_first_visit_since is None
    assert StatusChange.objects.filter(patient__in=patients, from_status="", to_status="managed").count() == 3

    supplement = PersonalSupplement.objects.get(patient=first)
    assert (supplement.guardian_name, supplement.guardian_relation, supplement.household) == ("测试监护人", "母子", 1)
    assert (supplement.employment, supplement.consent, supplement.consent_date) == (4, 1, date(2024, 3, 1))
    assert supplement.past_symptoms == [1, 3, 10]
    assert (supplement.poverty_alleviation, supplement.community_rehab) == (False, True)
    assert supplement.filled_on == date(2024, 3, 1) and supplement.filled_by == doctor
    assert PersonalSupplement.objects.get(patient=second).disability_grade == 2


def test_one_audit_event_per_batch_with_counts_not_identities(cast: dict[str, Any], towns: list[Region]) -> None:
    rows = [patient_row(towns[0].code, name="审计测试甲"), patient_row(towns[0].code, name="审计测试乙")]
    before = AuditEvent.objects.count()
    batch = run(cast["community_doctor_a"], rows)
    events = list(AuditEvent.objects.order_by("id")[before:])
    assert len(events) == 1
    event = events[0]
    assert (event.action, event.object_type, event.object_id) == ("create", "paperwork.importbatch", str(batch.pk))
    assert event.actor_username == "community_doctor_a"
    assert event.detail["rows"] == 2 and event.detail["created"] == 2 and event.detail["persons_created"] == 2
    text = str(event.detail)
    assert "审计测试" not in text and rows[0]["id_number"] not in text


def test_the_report_of_a_file_with_bad_rows_names_row_and_column(cast: dict[str, Any], towns: list[Region]) -> None:
    good = patient_row(towns[0].code)
    rows = [
        good,                                                                   # row 2
        patient_row(towns[0].code, id_number=wrong_check_digit(new_id_number())),  # row 3: check digit
        patient_row(towns[0].code, employment="10", household="城里"),          # row 4: unknown codes
        patient_row(towns[1].code),                                              # row 5: township B (other county)
        dict(good),                                                              # row 6: duplicate of row 2
        patient_row("440106999", diagnosis="F20", icd10_code="F31.1"),           # row 7: no such township; ICD
        patient_row(towns[0].code, name=None, registered_on="2099-01-01"),        # row 8: required, future
    ]
    batch = run(cast["community_doctor_a"], rows)
    assert batch.status == "rejected"
    assert batch.errors == [
        [3, "证件号码", "证件号码校验位不正确"],
        [4, "户别", "代码“城里”无效，可填代码：1、2。"],
        [4, "就业情况", "代码“10”无效，可填代码：1、2、3、4、5、6、7、8、9。"],
        [5, "乡镇（街道）代码", f"乡镇（街道）{towns[1].code} 不在您的管辖范围内。"],
        [7, "乡镇（街道）代码", "不存在代码为 440106999 的乡镇（街道）。"],
        [7, "ICD-10编码", "该 ICD-10 编码与所选诊断不符。"],
        [8, "姓名", "必填项，不能为空。"],
        [8, "建档日期", "日期晚于今天。"],
        [6, "证件号码", "与本文件第 2 行的证件号码重复。"],
    ]
    assert (batch.rows_total, batch.rows_invalid, batch.error_count, batch.rows_created) == (7, 6, 9, 0)
    # All or nothing: the valid row 2 was not imported either.
    assert not Patient.objects.exists() and not Person.objects.exists()


def test_check_only_writes_nothing(cast: dict[str, Any], towns: list[Region]) -> None:
    batch = run(cast["community_doctor_a"], [patient_row(towns[0].code)], commit=False)
    assert (batch.status, batch.rows_total, batch.rows_created) == ("checked", 1, 0)
    assert not Patient.objects.exists()


def test_the_same_file_again_is_not_imported_twice(cast: dict[str, Any], towns: list[Region]) -> None:
    content = sheet_bytes(COLUMNS, [patient_row(towns[0].code), patient_row(towns[0].code)])
    first = import_spreadsheet(cast["community_doctor_a"], "patients", "a.xlsx", content)
    again = import_spreadsheet(cast["mhc_staff_a"], "patients", "a-copy.xlsx", content)
    assert (first.status, again.status) == ("committed", "duplicate")
    assert again.rows_created == 0 and Patient.objects.count() == 2
    assert ImportBatch.objects.filter(status="committed").count() == 1


def test_the_same_rows_in_another_file_are_skipped(cast: dict[str, Any], towns: list[Region]) -> None:
    rows = [patient_row(towns[0].code), patient_row(towns[0].code)]
    run(cast["community_doctor_a"], rows)
    numbers = dict(Patient.objects.values_list("person__id_number_index", "register_number"))
    rows[0]["phone"] = "13711112222"  # another file (another hash), same persons
    batch = run(cast["community_doctor_a"], [*rows, patient_row(towns[0].code)])
    assert (batch.status, batch.rows_created, batch.rows_skipped) == ("committed", 1, 2)
    first_number = numbers[Person.id_index_for("resident_id", rows[0]["id_number"])]
    assert batch.notes[0] == [2, f"已登记（登记号 {first_number}），已跳过。"]
    assert Patient.objects.count() == 3 and Person.objects.count() == 3


def test_a_person_registered_elsewhere_is_an_error(cast: dict[str, Any], towns: list[Region]) -> None:
    elsewhere = PatientFactory(region=towns[1])
    row = patient_row(towns[0].code, id_number=elsewhere.person.id_number)
    batch = run(cast["community_doctor_a"], [row])
    assert batch.status == "rejected"
    assert batch.errors == [[2, "证件号码", "此人已在其他地区或机构登记。请联系县级精神卫生中心办理转移或合并。"]]


def test_a_known_person_without_a_registration_is_reused(cast: dict[str, Any], towns: list[Region]) -> None:
    person = PersonFactory(region=towns[0], phone="", address="")
    row = patient_row(towns[0].code, id_number=person.id_number, phone="13600000000", address="新地址1号")
    batch = run(cast["community_doctor_a"], [row])
    assert batch.status == "committed"
    patient = Patient.objects.get()
    assert patient.person_id == person.pk and Person.objects.count() == 1
    person.refresh_from_db()
    assert (person.phone, person.address, person.name) == ("13600000000", "新地址1号", "王测试" + person.name[3:])


def test_the_county_centre_imports_for_all_its_townships(cast: dict[str, Any], towns: list[Region]) -> None:
    other_town = Region.objects.filter(parent_id=towns[0].county_code, level=4).exclude(code=towns[0].code).first()
    assert other_town is not None
    clinic_of(other_town)
    batch = run(cast["mhc_staff_a"], [patient_row(towns[0].code), patient_row(other_town.code)])
    assert batch.status == "committed" and batch.rows_created == 2
    batch = run(cast["mhc_staff_a"], [patient_row(towns[1].code)])  # county B
    assert batch.errors == [[2, "乡镇（街道）代码", f"乡镇（街道）{towns[1].code} 不在您的管辖范围内。"]]


def test_a_missing_required_column_rejects_the_file(cast: dict[str, Any], towns: list[Region]) -> None:
    columns = tuple(c for c in COLUMNS if c.key != "icd10_code")
    content = sheet_bytes(columns, [patient_row(towns[0].code)])
    batch = import_spreadsheet(cast["community_doctor_a"], "patients", "x.xlsx", content)
    assert batch.status == "rejected"
    assert batch.errors == [[1, "ICD-10编码", "表头缺少此必填列。"]]


def test_id_numbers_typed_as_numbers_are_explained(cast: dict[str, Any], towns: list[Region]) -> None:
    batch = run(cast["community_doctor_a"], [patient_row(towns[0].code, id_number="4.40106199001012E+17")])
    assert batch.errors == [[2, "证件号码", "证件号码被存为数字，末几位已丢失：请将该列设为文本格式后重新填写。"]]


def test_a_township_without_a_clinic(cast: dict[str, Any], towns: list[Region]) -> None:
    bare = Region.objects.filter(parent_id=towns[0].county_code, level=4).order_by("-code").first()
    assert bare is not None
    batch = run(cast["mhc_staff_a"], [patient_row(bare.code)])
    assert batch.errors == [[2, "乡镇（街道）代码", "该乡镇（街道）尚无可管理患者的社区卫生服务中心或乡镇卫生院，请先添加。"]]


def test_supplement_rules_across_fields(cast: dict[str, Any], towns: list[Region]) -> None:
    row = patient_row(towns[0].code, consent_signed_by=None, disability_grade="1", disability_card="否",
                      onset_date="2020-05-01", first_antipsychotic_date="2020-01-01")
    batch = run(cast["community_doctor_a"], [row])
    assert [e[1] for e in batch.errors] == ["知情同意签字人", "精神残疾等级", "首次抗精神病药治疗时间"]


def test_the_template_example_row_is_skipped(cast: dict[str, Any], towns: list[Region]) -> None:
    """The downloaded template, uploaded untouched: the example row is skipped, no data row remains."""
    content = build_template(COLUMNS, rows=10)
    batch = import_spreadsheet(cast["community_doctor_a"], "patients", "模板.xlsx", content)
    assert batch.status == "rejected" and batch.rows_total == 0
    assert batch.notes == [[2, "已跳过模板的示例行。"]]
    assert batch.errors == [[1, "", "文件中没有数据行。"]]


def test_csv_in_gb18030(cast: dict[str, Any], towns: list[Region]) -> None:
    content = csv_bytes(COLUMNS, [patient_row(towns[0].code, diagnosed_on="2023-12-01")], encoding="gb18030")
    batch = import_spreadsheet(cast["community_doctor_a"], "patients", "患者.csv", content)
    assert (batch.status, batch.file_format, batch.rows_created) == ("committed", "csv", 1)
    assert Patient.objects.get().person.name == "测试患者"


def test_a_failure_while_committing_leaves_nothing(cast: dict[str, Any], towns: list[Region],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real = bulk.write_columns

    def failing(model: Any, count: int, columns: Any, stream: Any, **kw: Any) -> list[int] | None:
        if model is PersonalSupplement:
            raise RuntimeError("disk full")
        return real(model, count, columns, stream, **kw)

    monkeypatch.setattr(bulk, "write_columns", failing)
    with pytest.raises(RuntimeError):
        run(cast["community_doctor_a"], [patient_row(towns[0].code)])
    assert not Person.objects.exists() and not Patient.objects.exists() and not ImportBatch.objects.exists()


@pytest.mark.parametrize("user", ["police_a", "psychiatrist_a", "regulator", "no_role"])
def test_only_importers_may_import(cast: dict[str, Any], towns: list[Region], user: str) -> None:
    with pytest.raises(PermissionDenied):
        run(cast[user], [patient_row(towns[0].code)])


class SupplementRulesAgree(HypothesisTestCase):
    """``supplement_rule_errors`` (per row, fast) says what ``patients.services.supplement_errors`` says
    about the cross-field rules, on any supplement whose codes and dates are already valid."""

    @settings(max_examples=60, deadline=None)
    @given(consent=st.sampled_from([None, 0, 1]), signer=st.sampled_from(["", "王某"]),
           consent_date=st.sampled_from([None, date(2024, 1, 1)]), grade=st.sampled_from([None, 1, 4]),
           card=st.booleans(), onset=st.sampled_from([None, date(2020, 1, 1)]),
           first=st.sampled_from([None, date(2019, 12, 31), date(2020, 1, 1), date(2021, 6, 1)]))
    def test_same_verdicts(self, consent: Any, signer: str, consent_date: Any, grade: Any, card: bool,
                           onset: Any, first: Any) -> None:
        from xinqiao.patients.services import SupplementInput, supplement_errors

        translation.activate("zh-hans")
        values = {"consent": consent, "consent_signed_by": signer, "consent_date": consent_date,
                  "disability_grade": grade, "disability_card": card, "onset_date": onset,
                  "first_antipsychotic_date": first}
        data = SupplementInput(consent=consent, consent_signed_by=signer, consent_date=consent_date,
                               disability_grade=grade, disability_card=card, onset_date=onset,
                               first_antipsychotic_date=first)
        theirs = supplement_errors(data, None)  # type: ignore[arg-type]
        assert supplement_rule_errors(values) == theirs


def test_dates_relative_to_today(cast: dict[str, Any], towns: list[Region]) -> None:
    tomorrow = timezone.localdate() + timedelta(days=1)
    batch = run(cast["community_doctor_a"], [patient_row(towns[0].code, next_followup_due=tomorrow,
                                                         diagnosed_on=tomorrow)])
    assert batch.errors == [[2, "确诊日期", "日期晚于今天。"]]
