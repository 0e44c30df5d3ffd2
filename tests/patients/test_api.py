"""The register's API: errors name the field in both languages, Idempotency-Key replays, scope and masks."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.helpers import fields_of, has_cjk, verified_client
from tests.patients.conftest import new_id_number
from tests.patients.factories import PatientFactory
from xinqiao.core.models import Region
from xinqiao.patients.models import CaseReport, Patient, PersonalSupplement, Transfer

pytestmark = pytest.mark.django_db


def _report(town: Region, hospital: Any, **kw: Any) -> dict[str, Any]:
    body = {"name": "钱接口", "id_number": new_id_number(town), "region_code": town.code, "report_type": 2,
            "diagnosis": "F20", "icd10_code": "F20.0", "diagnosing_hospital": hospital.pk,
            "diagnosed_on": "2026-01-05", "brought_by": 3, "prior_danger": ["disaster"], "danger_level": 4}
    body.update(kw)
    return body


def test_case_report_is_created_once_per_key(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any]) -> None:
    client = verified_client(cast["psychiatrist_a"])
    url = reverse("api-1:patients_case_report_create")
    body = _report(towns[0], orgs["hospital"])
    first = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.content
    again = client.post(url, body, content_type="application/json", headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert CaseReport.objects.count() == 1
    out = first.json()
    assert out["register_number"].startswith(towns[0].county_code) and out["late"] in (True, False)
    patient = Patient.objects.get()
    assert patient.incident_history and patient.danger_level == 4
    other = client.post(url, {**body, "name": "别的"}, content_type="application/json",
                        headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422 and fields_of(other) == ["Idempotency-Key"]
    missing = client.post(url, body, content_type="application/json")
    assert missing.status_code == 422 and "Idempotency-Key" in str(missing.json())


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_errors_name_the_field_in_the_users_language(cast: dict[str, Any], towns: list[Region],
                                                     orgs: dict[str, Any], language: str) -> None:
    client = verified_client(cast["psychiatrist_a"])
    body = _report(towns[0], orgs["hospital"], diagnosis="F7x", icd10_code="F72", co_icd10_code="")
    response = client.post(reverse("api-1:patients_case_report_create"), body, content_type="application/json",
                           headers={"Idempotency-Key": f"e-{language}", "Accept-Language": language})
    assert response.status_code == 422
    assert fields_of(response) == ["co_icd10_code"]
    message = response.json()["detail"][0]["message"]
    assert has_cjk(message) == (language == "zh-hans")
    bad = client.post(reverse("api-1:patients_case_report_create"), {**body, "report_type": 7},
                      content_type="application/json", headers={"Idempotency-Key": "e2", "Accept-Language": language})
    assert bad.status_code == 422 and fields_of(bad) == ["report_type"]


def test_duplicate_registration_is_refused_naming_the_register_number(
        cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any]) -> None:
    client = verified_client(cast["mhc_staff_a"])
    body = _report(towns[0], orgs["hospital"])
    url = reverse("api-1:patients_case_report_create")
    number = client.post(url, body, content_type="application/json",
                         headers={"Idempotency-Key": "a"}).json()["register_number"]
    again = client.post(url, {**body, "name": "同一人"}, content_type="application/json",
                        headers={"Idempotency-Key": "b"})
    assert again.status_code == 422 and fields_of(again) == ["id_number"]
    assert number in again.json()["detail"][0]["message"]


def test_status_supplement_and_scope(cast: dict[str, Any], towns: list[Region]) -> None:
    patient = PatientFactory(region=towns[0])
    other = PatientFactory(region=towns[1])
    client = verified_client(cast["community_doctor_a"])
    assert client.get(reverse("api-1:patients_detail", kwargs={"patient_id": other.pk})).status_code == 404
    url = reverse("api-1:patients_status", kwargs={"patient_id": patient.pk})
    dead = client.post(url, {"to_status": "dead", "changed_on": "2026-01-10", "death_date": "2026-01-09",
                             "death_cause": 1}, content_type="application/json", headers={"Idempotency-Key": "s1"})
    assert dead.status_code == 422 and fields_of(dead) == ["physical_death_cause"]
    ok = client.post(url, {"to_status": "dead", "changed_on": "2026-01-10", "death_date": "2026-01-09",
                           "death_cause": 1, "physical_death_cause": 4}, content_type="application/json",
                     headers={"Idempotency-Key": "s2"})
    assert ok.status_code == 201 and ok.json()["to_status"] == "dead"
    listed = client.get(reverse("api-1:patients_list"), {"status": "on_register"}).json()
    assert listed["count"] == 0 and listed["registered"] == 0
    sup = client.post(reverse("api-1:patients_supplement_save", kwargs={"patient_id": patient.pk}),
                      {"guardian_name": "周某", "behaviour_counts": {"trouble": 2}, "past_symptoms": [2],
                       "household": 1, "guardian_relation": None},
                      content_type="application/json", headers={"Idempotency-Key": "p1"})
    assert sup.status_code == 200, sup.content
    assert sup.json()["behaviour_counts"]["trouble"] == 2 and sup.json()["guardian_name"] == "周*"
    assert PersonalSupplement.objects.get(patient=patient).guardian_name == "周某"
    bad = client.post(reverse("api-1:patients_supplement_save", kwargs={"patient_id": patient.pk}),
                      {"behaviour_counts": {"arson": 1}}, content_type="application/json",
                      headers={"Idempotency-Key": "p2"})
    assert bad.status_code == 422 and fields_of(bad) == ["behaviour_counts"]


def test_transfer_through_the_api(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any]) -> None:
    patient = PatientFactory(region=towns[0])
    a = verified_client(cast["community_doctor_a"])
    sent = a.post(reverse("api-1:patients_transfer_create", kwargs={"patient_id": patient.pk}),
                  {"to_region": towns[1].code, "moved_on": "2026-01-10"}, content_type="application/json",
                  headers={"Idempotency-Key": "t1"})
    assert sent.status_code == 201 and sent.json()["incoming"] is False
    transfer = Transfer.objects.get()
    url = reverse("api-1:patients_transfer_decide", kwargs={"transfer_id": transfer.pk})
    assert a.post(url, {"decision": "accept"}, content_type="application/json",
                  headers={"Idempotency-Key": "t2"}).status_code == 403
    b = verified_client(cast["community_doctor_b"])
    assert b.get(reverse("api-1:patients_transfer_list")).json()[0]["incoming"] is True
    done = b.post(url, {"decision": "accept"}, content_type="application/json", headers={"Idempotency-Key": "t3"})
    assert done.status_code == 200 and done.json()["status"] == "accepted"
    assert b.get(reverse("api-1:patients_detail", kwargs={"patient_id": patient.pk})).status_code == 200
