"""Pages of the register: partner scope (404 below the threshold), masks per role, fixed query counts,
idempotent forms, the late-report list, the masked export, unmask with purpose, the transfer inbox."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.helpers import has_cjk, verified_client
from tests.patients.conftest import new_id_number
from tests.patients.factories import PatientFactory
from xinqiao.core.models import AuditEvent, Region
from xinqiao.patients import services
from xinqiao.patients.models import CaseReport, Patient, PersonalSupplement, StatusChange, Transfer
from xinqiao.patients.services import SupplementInput

pytestmark = pytest.mark.django_db


def detail(pk: int) -> str:
    return reverse("patients:patient_detail", kwargs={"pk": pk})


def test_police_cannot_see_a_danger_0_patient_but_sees_danger_3_in_their_township(
        cast: dict[str, Any], towns: list[Region]) -> None:
    calm = PatientFactory(region=towns[0], danger_level=0)
    risky = PatientFactory(region=towns[0], danger_level=3)
    elsewhere = PatientFactory(region=towns[1], danger_level=5)
    police = verified_client(cast["police_a"])
    assert police.get(detail(calm.pk)).status_code == 404
    assert police.get(detail(elsewhere.pk)).status_code == 404
    page = police.get(detail(risky.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="f-danger_level"' in body and 'id="f-diagnosis"' not in body
    assert "F20" not in body and risky.person.name not in body  # no diagnosis; the name masked
    assert AuditEvent.objects.filter(action="view", object_type="patients.patient", object_id=str(risky.pk),
                                     actor_username="police_a").exists()
    api = police.get(reverse("api-1:patients_detail", kwargs={"patient_id": calm.pk}))
    assert api.status_code == 404
    shown = police.get(reverse("api-1:patients_detail", kwargs={"patient_id": risky.pk})).json()
    assert shown["danger_level"] == 3 and shown["diagnosis"] is None and shown["icd10_code"] is None
    assert shown["name"] != risky.person.name and shown["name"].startswith(risky.person.name[0])
    listed = police.get(reverse("patients:patient_list"))
    assert risky.register_number in listed.content.decode()
    assert calm.register_number not in listed.content.decode()


def test_civil_affairs_sees_poverty_and_subsidy_not_diagnosis(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = PatientFactory(region=towns[0], danger_level=4)
    services.save_supplement(cast["community_doctor_a"], patient, SupplementInput(
        economic_status=1, poverty_alleviation=True, guardianship_subsidy=True, past_symptoms=[1]))
    client = verified_client(cast["civil_affairs_a"])
    body = client.get(detail(patient.pk)).content.decode()
    assert "精准扶贫对象" in body and "监护补助对象" in body
    assert 'id="f-diagnosis"' not in body and "精神分裂症" not in body and "幻觉" not in body
    api = client.get(reverse("api-1:patients_supplement", kwargs={"patient_id": patient.pk})).json()
    assert api["economic_status"] == 1 and api["poverty_alleviation"] is True and api["guardianship_subsidy"] is True
    assert api["past_symptoms"] is None and api["behaviour_counts"] is None and api["disability_card"] is None
    assert client.get(reverse("api-1:patients_detail", kwargs={"patient_id": patient.pk})).json()["diagnosis"] is None


def test_doctor_sees_the_clinical_record(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = PatientFactory(region=towns[0])
    body = verified_client(cast["community_doctor_a"]).get(detail(patient.pk)).content.decode()
    assert 'id="f-diagnosis"' in body and "F20.0" in body and has_cjk(body)


def test_list_runs_a_fixed_number_of_queries(cast: dict[str, Any], towns: list[Region],
                                             django_assert_max_num_queries: Any) -> None:
    client = verified_client(cast["community_doctor_a"])
    url = reverse("patients:patient_list")
    PatientFactory(region=towns[0])
    client.get(url)  # warm the session and permission caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for _ in range(12):
        PatientFactory(region=towns[0])
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_list_filters_respect_what_the_role_may_see(cast: dict[str, Any], towns: list[Region]) -> None:
    bipolar = PatientFactory(region=towns[0], danger_level=3, diagnosis="F31", icd10_code="F31.1")
    PatientFactory(region=towns[0], danger_level=3)
    police = verified_client(cast["police_a"])
    body = police.get(reverse("patients:patient_list"), {"diagnosis": "F31"}).content.decode()
    assert 'name="diagnosis"' not in body  # not offered
    assert body.count('class="list-group-item list-group-item-action"') == 2  # and not applied
    doctor = verified_client(cast["community_doctor_a"])
    rows = doctor.get(reverse("patients:patient_list"), {"diagnosis": "F31"}, headers={"HX-Request": "true"})
    text = rows.content.decode()
    assert "<html" not in text and bipolar.register_number in text and text.count("list-group-item-action") == 1


def test_case_report_form_is_stored_once_and_late_ones_are_listed(
        cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any]) -> None:
    client = verified_client(cast["mhc_staff_a"])
    url = reverse("patients:case_report_create")
    form = client.get(url)
    key = form.context["form"].initial["form_key"]
    data = {"form_key": key, "name": "赵报告", "id_type": "resident_id", "id_number": new_id_number(towns[0]),
            "region_code": towns[0].code, "report_type": "2", "diagnosis": "F20", "icd10_code": "F20.0",
            "diagnosing_hospital": orgs["hospital"].pk, "diagnosed_on": "2025-06-02", "brought_by": "2",
            "danger_level": "1", "entry": "online"}
    first = client.post(url, data)
    assert first.status_code == 302
    again = client.post(url, data)  # a double tap
    assert again.status_code == 302
    assert CaseReport.objects.count() == Patient.objects.count() == 1
    report = CaseReport.objects.get()
    assert report.late and report.reporting_unit == orgs["hospital"]
    late = client.get(reverse("patients:case_report_list"), {"late": "1"}).content.decode()
    assert report.patient.register_number in late and "list-group-item-danger" in late  # type: ignore[union-attr]


def test_case_report_form_errors_name_the_field(cast: dict[str, Any], towns: list[Region],
                                                orgs: dict[str, Any]) -> None:
    client = verified_client(cast["psychiatrist_a"])
    url = reverse("patients:case_report_create")
    data = {"name": "赵报告", "id_type": "resident_id", "id_number": "", "region_code": towns[0].code,
            "report_type": "2", "diagnosis": "F06", "icd10_code": "F06.3", "diagnosing_hospital": orgs["hospital"].pk,
            "diagnosed_on": "2026-01-05", "brought_by": "1", "danger_level": "0", "entry": "online"}
    page = client.post(url, data)
    assert page.status_code == 400
    errors = page.context["form"].errors
    assert list(errors) == ["co_icd10_code"] and "G40" in errors["co_icd10_code"][0]
    assert not Patient.objects.exists()


def test_export_is_masked_scoped_and_audited(cast: dict[str, Any], towns: list[Region]) -> None:
    mine = PatientFactory(region=towns[0])
    PatientFactory(region=towns[1])
    response = verified_client(cast["community_doctor_a"]).get(reverse("patients:patient_export"))
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len(rows) == 2 and rows[1][0] == mine.register_number
    flat = " ".join(str(v) for v in rows[1])
    assert mine.person.name not in flat and mine.person.id_number not in flat
    event = AuditEvent.objects.get(action="export", object_type="patients.patient")
    assert event.detail["count"] == 1 and event.detail["masked"] is True


def test_unmask_needs_a_purpose_and_is_audited(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = PatientFactory(region=towns[0], danger_level=3)
    url = reverse("patients:patient_unmask", kwargs={"pk": patient.pk})
    police = verified_client(cast["police_a"])
    assert police.post(url, {"purpose": "x"}).status_code == 400
    page = police.post(url, {"purpose": "接警核实身份"})
    assert page.status_code == 200 and patient.person.name in page.content.decode()
    event = AuditEvent.objects.get(action="unmask")
    assert event.purpose == "接警核实身份" and "person.name" in event.detail["fields"]
    assert verified_client(cast["grid_worker_a"]).post(url, {"purpose": "接警核实身份"}).status_code == 403


def test_status_and_supplement_pages(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = PatientFactory(region=towns[0])
    client = verified_client(cast["community_doctor_a"])
    url = reverse("patients:patient_status", kwargs={"pk": patient.pk})
    bad = client.post(url, {"to_status": "dead", "changed_on": "2026-01-10", "death_date": "2026-01-09"})
    assert bad.status_code == 400 and "death_cause" in bad.context["form"].errors
    ok = client.post(url, {"to_status": "lost", "changed_on": "2026-01-10", "loss_reason": "3",
                           "form_key": bad.context["form"].data.get("form_key", "")})
    assert ok.status_code == 302
    assert StatusChange.objects.filter(patient=patient, to_status="lost", loss_reason=3).exists()
    url = reverse("patients:supplement_edit", kwargs={"pk": patient.pk})
    assert client.get(url).status_code == 200
    saved = client.post(url, {"guardian_name": "孙某", "household": "2", "consent": "1", "consent_signed_by": "孙某",
                              "consent_date": "2026-01-10", "past_symptoms": ["1", "3"], "disaster_count": "1",
                              "diagnosis": "F20", "icd10_code": "F20.1", "diagnosed_on": "2026-01-02",
                              "poverty_alleviation": "on"})
    assert saved.status_code == 302, saved.context["form"].errors if saved.context else None
    supplement = PersonalSupplement.objects.get(patient=patient)
    assert supplement.past_symptoms == [1, 3] and supplement.poverty_alleviation and supplement.disaster_count == 1
    patient.refresh_from_db()
    assert patient.incident_history and patient.icd10_code == "F20.1"


def test_transfer_pages_round_trip(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any]) -> None:
    patient = PatientFactory(region=towns[0])
    sender = verified_client(cast["community_doctor_a"])
    sent = sender.post(reverse("patients:transfer_create", kwargs={"pk": patient.pk}),
                       {"to_region": towns[1].code, "moved_on": "2026-01-10", "reason": "迁居"})
    assert sent.status_code == 302
    transfer = Transfer.objects.get()
    receiver = verified_client(cast["community_doctor_b"])
    inbox = receiver.get(reverse("patients:transfer_inbox")).content.decode()
    assert f'id="transfer-{transfer.pk}"' in inbox
    assert receiver.get(detail(patient.pk)).status_code == 404
    answered = receiver.post(reverse("patients:transfer_decide", kwargs={"pk": transfer.pk}),
                             {"decision": "accept", "managing_organisation": orgs["clinic_b"].pk})
    assert answered.status_code == 302
    assert receiver.get(detail(patient.pk)).status_code == 200
    assert sender.get(detail(patient.pk)).status_code == 404


def test_duplicates_page_and_merge(cast: dict[str, Any], towns: list[Region]) -> None:
    from tests.factories import PersonFactory

    number = new_id_number(towns[0])
    keep = PersonFactory(region=towns[0], id_number=number)
    drop = PersonFactory(region=towns[0], id_number=number)
    PatientFactory(region=towns[0], person=drop)
    client = verified_client(cast["mhc_staff_a"])
    page = client.get(reverse("patients:duplicate_list")).content.decode()
    assert f'value="{keep.pk}"' in page and f'value="{drop.pk}"' in page
    done = client.post(reverse("patients:merge"), {"keep": keep.pk, "drop": drop.pk, "reason": "重复建档"})
    assert done.status_code == 302
    assert Patient.objects.get().person_id == keep.pk
    assert "重复建档" not in page
