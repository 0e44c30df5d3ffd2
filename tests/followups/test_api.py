"""``/api/v1/followups/``: idempotent creates, field-named errors in both languages, scoped and masked reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.followups.factories import hospital, make_patient
from tests.helpers import fields_of, login_verified
from xinqiao.core.models import AuditAction, AuditEvent
from xinqiao.followups.models import DischargeRecord, FollowUp, HealthCheck, MedicationCatalogue

pytestmark = pytest.mark.django_db
URL = "/api/v1/followups/"


def body(patient: Any, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "patient_id": patient.pk, "followup_date": timezone.localdate().isoformat(), "method": 1, "danger_level": 1,
        "symptoms": [10], "insight": 2, "sleep": 2, "diet": 1, "self_care": 1, "housework": 2, "work": 9,
        "study": 2, "social": 2, "lock_status": 1, "hospital_status": 0, "lab_tests": 1, "adherence": 2,
        "adverse_reaction": 1, "treatment_effect": 2, "referral": 1, "rehab_measures": [1],
        "medications": [{"drug_name": "喹硫平", "times": 2, "dose": "200"}],
        "participants": [{"role": "family", "name": "患者姐姐"}],
    }
    data.update(changes)
    return data


def post(client: Any, url: str, data: dict[str, Any], key: str = "k1", **extra: Any) -> Any:
    return client.post(url, data, content_type="application/json", headers={"Idempotency-Key": key, **extra})


@pytest.fixture
def patient(towns: Any) -> Any:
    return make_patient(towns[0])


@pytest.fixture
def doctor(client: Any, cast: dict[str, Any]) -> Any:
    login_verified(client, cast["community_doctor_a"])
    return cast["community_doctor_a"]


def test_create_runs_the_rules_and_replays(client: Any, doctor: Any, patient: Any) -> None:
    response = post(client, URL, body(patient))
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["fields"]["classification"] == 2 and out["fields"]["proposed_classification"] == 2
    assert out["fields"]["actions"] == ["adjust_treatment"]
    assert out["fields"]["symptoms"] == [10]
    assert out["medications"][0]["drug_name"] == "喹硫平" and out["participants"][0]["name"] == "患者姐姐"
    again = post(client, URL, body(patient))
    assert again.status_code == 201 and again.json()["id"] == out["id"] and again.json()["replayed"] is True
    assert FollowUp.objects.count() == 1
    conflict = post(client, URL, body(patient, danger_level=3))
    assert conflict.status_code == 422 and fields_of(conflict) == ["Idempotency-Key"]


def test_errors_name_the_field_in_both_languages(client: Any, doctor: Any, patient: Any) -> None:
    zh = post(client, URL, body(patient, insight=None, classification=3), key="e1")
    assert zh.status_code == 422
    assert set(fields_of(zh)) == {"insight"}
    assert any("必" in d["message"] for d in zh.json()["detail"])
    en = post(client, URL, body(patient, insight=None), key="e2", **{"Accept-Language": "en"})
    assert en.status_code == 422 and en.json()["detail"][0]["message"] == "This field is required."
    override = post(client, URL, body(patient, classification=3), key="e3")
    assert fields_of(override) == ["override_reason"]
    line = post(client, URL, body(patient, medications=[{"drug_id": 999999, "times": 1, "dose": "1"}]), key="e4")
    assert fields_of(line) == ["medications.0.drug_id"]
    schema = post(client, URL, body(patient, outcome="maybe"), key="e5")
    assert schema.status_code == 422 and fields_of(schema) == ["outcome"]
    assert not FollowUp.objects.exists()


def test_idempotency_key_is_required(client: Any, doctor: Any, patient: Any) -> None:
    response = client.post(URL, body(patient), content_type="application/json")
    assert response.status_code == 422


def test_read_is_scoped_masked_and_audited(client: Any, doctor: Any, cast: dict[str, Any], patient: Any) -> None:
    created = post(client, URL, body(patient)).json()
    listed = client.get(URL, {"patient_id": patient.pk})
    assert listed.status_code == 200 and listed.json()["count"] == 1
    detail = client.get(f"{URL}{created['id']}")
    assert detail.status_code == 200 and detail.json()["fields"]["adherence"] == 2
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(created["id"])).exists()
    # The regulator sees follow-up content but not medication (clinical.medication is hidden).
    login_verified(client, cast["regulator"])
    fields = client.get(f"{URL}{created['id']}").json()["fields"]
    assert fields["classification"] == 2 and fields["adherence"] is None
    assert client.get(f"{URL}{created['id']}").json()["medications"][0]["drug_name"] is None
    # Another township's doctor: 404 for the record and an empty list.
    login_verified(client, cast["community_doctor_b"])
    assert client.get(f"{URL}{created['id']}").status_code == 404
    assert client.get(URL).json()["count"] == 0
    assert client.get(URL, {"patient_id": patient.pk}).status_code == 404
    # Police: no follow-up permission at all.
    login_verified(client, cast["police_a"])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{created['id']}").status_code == 404


def test_propose_is_the_cli_contract(client: Any, doctor: Any) -> None:
    data = {"followup_date": "2025-01-31", "danger_level": 1, "insight": 1, "symptoms": [], "symptoms_marked": False,
            "social_function": {"self_care": 1, "housework": 1, "work": 1, "study": 1, "social": 1},
            "adverse_reaction_serious": False, "physical_illness_serious": False, "previous_classification": 2}
    response = client.post(f"{URL}propose", data, content_type="application/json")
    assert response.json() == {"classification": 2, "label": "基本稳定", "next_followup_date": "2025-02-28",
                               "actions": ["adjust_treatment", "consult_psychiatrist"]}
    bad = client.post(f"{URL}propose", {**data, "danger_level": 9}, content_type="application/json")
    assert bad.status_code == 422 and fields_of(bad) == ["danger_level"]


def test_medication_catalogue(client: Any, doctor: Any) -> None:
    drugs = {d["generic_name_zh"]: d for d in client.get(f"{URL}medications").json()}
    assert drugs["利培酮"]["long_acting"] is False and drugs["利培酮"]["atc_code"] == "N05AX08"
    assert drugs["帕利哌酮棕榈酸酯注射液"]["long_acting"] is True
    assert drugs["帕利哌酮棕榈酸酯注射液"]["default_period"] == "month"
    assert drugs["碳酸锂"]["drug_class"] == "mood_stabiliser"
    assert len(drugs) == MedicationCatalogue.objects.filter(active=True).count() >= 20


def test_health_check_and_discharge_over_the_api(client: Any, cast: dict[str, Any], patient: Any) -> None:
    login_verified(client, cast["mhc_staff_a"])
    today = timezone.localdate()
    check = post(client, f"{URL}health-checks", {"patient_id": patient.pk, "check_date": today.isoformat(),
                                                  "systolic_bp": 118, "diastolic_bp": 76, "ecg": 1})
    assert check.status_code == 201 and check.json()["fields"]["systolic_bp"] == 118
    assert HealthCheck.objects.count() == 1
    assert len(client.get(f"{URL}patients/{patient.pk}/health-checks").json()) == 1
    org = hospital(patient.county_code)
    data = {"patient_id": patient.pk, "hospital_id": org.pk, "admission_date": (today - timedelta(days=9)).isoformat(),
            "discharge_date": today.isoformat(), "diagnosis": "F20", "effect": 1,
            "medications": [{"drug_name": "氯氮平", "times": 2, "dose": "100"}]}
    created = post(client, f"{URL}discharges", data, key="d1")
    assert created.status_code == 201, created.content
    assert created.json()["medications"][0]["drug_name"] == "氯氮平"
    assert post(client, f"{URL}discharges", data, key="d1").json()["id"] == created.json()["id"]
    assert DischargeRecord.objects.count() == 1
    listed = client.get(f"{URL}patients/{patient.pk}/discharges").json()
    assert listed[0]["fields"]["effect"] == 1
    wrong = post(client, f"{URL}discharges", {**data, "discharge_date": (today + timedelta(days=1)).isoformat()},
                 key="d2")
    assert wrong.status_code == 422 and fields_of(wrong) == ["discharge_date"]


def test_create_for_a_patient_out_of_scope_is_404(client: Any, doctor: Any, towns: Any) -> None:
    other = make_patient(towns[1])
    assert post(client, URL, body(other)).status_code == 404
    assert not FollowUp.objects.exists()


def test_death_over_the_api(client: Any, doctor: Any, patient: Any) -> None:
    response = post(client, URL, {"patient_id": patient.pk, "followup_date": timezone.localdate().isoformat(),
                                  "outcome": "dead", "death_date": timezone.localdate().isoformat(), "death_cause": 2})
    assert response.status_code == 201
    patient.refresh_from_db()
    assert patient.status == "dead"
