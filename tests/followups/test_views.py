"""Follow-up pages: the phone form with its live proposal, lists, details, health check and discharge forms.

Scope answers 404 outside the region (and for partner roles at danger 0), the permission 403;
pages show only what ``present`` allows; every page showing a patient's record is audited.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.followups.factories import hospital, make_patient
from tests.helpers import has_cjk, login_verified
from xinqiao.core.models import AuditAction, AuditEvent
from xinqiao.followups.models import (
    DischargeRecord,
    FollowUp,
    FollowUpMedication,
    HealthCheck,
    MedicationCatalogue,
)

pytestmark = pytest.mark.django_db


def visit_post(day: date, **changes: Any) -> dict[str, Any]:
    """A complete stable visit as the browser posts it."""
    data: dict[str, Any] = {
        "form_key": "k-" + day.isoformat(), "followup_date": day.isoformat(), "outcome": "visited", "method": "2",
        "danger_level": "0", "insight": "1", "sleep": "1", "diet": "1", "self_care": "1", "housework": "1",
        "work": "9", "study": "1", "social": "2", "lock_status": "1", "hospital_status": "0", "lab_tests": "1",
        "adherence": "1", "adverse_reaction": "1", "treatment_effect": "2", "referral": "1",
        "minor_trouble_count": "0", "trouble_count": "0", "disaster_count": "0", "other_harm_count": "0",
        "self_harm_count": "0", "suicide_attempt_count": "0",
        "med-TOTAL_FORMS": "3", "med-INITIAL_FORMS": "0", "med-MIN_NUM_FORMS": "0", "med-MAX_NUM_FORMS": "10",
        "part-TOTAL_FORMS": "3", "part-INITIAL_FORMS": "0", "part-MIN_NUM_FORMS": "0", "part-MAX_NUM_FORMS": "10",
        **{f"med-{i}-period": "day" for i in range(3)}, **{f"med-{i}-unit": "mg" for i in range(3)},
    }
    data.update(changes)
    return data


@pytest.fixture
def patient(towns: Any) -> Any:
    return make_patient(towns[0], next_followup_due=timezone.localdate() - timedelta(days=5))


@pytest.fixture
def doctor(client: Any, cast: dict[str, Any]) -> Any:
    login_verified(client, cast["community_doctor_a"])
    return cast["community_doctor_a"]


# --- The form ---------------------------------------------------------------------------------------

def test_form_is_phone_sized_with_sections_and_audited(client: Any, doctor: Any, patient: Any) -> None:
    response = client.get(f"/followups/patients/{patient.pk}/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="viewport"' in html
    assert f'hx-post="/followups/patients/{patient.pk}/propose/"' in html
    for section in ("visit", "not-reached", "death", "risk", "social", "behaviour", "status", "treatment",
                    "referral", "participants", "decision"):
        assert f'id="section-{section}"' in html
    for name in ("danger_level", "insight", "self_care", "work", "classification", "override_reason", "med-0-drug"):
        assert f'name="{name}"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script (CSP)
    assert "style=" not in html
    assert has_cjk(html)
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="patients.patient",
                                     object_id=str(patient.pk)).exists()


def test_posting_a_visit_records_it_and_the_patient_leaves_overdue(client: Any, doctor: Any, patient: Any) -> None:
    drug = MedicationCatalogue.objects.get(generic_name_zh="利培酮")
    today = timezone.localdate()
    data = visit_post(today, **{"med-0-drug": str(drug.pk), "med-0-times": "2", "med-0-dose": "2",
                                "part-0-role": "family", "part-0-name": "患者父亲"})
    response = client.post(f"/followups/patients/{patient.pk}/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    fu = FollowUp.objects.get()
    assert response["Location"] == f"/followups/{fu.pk}/"
    assert fu.classification == 3 and fu.work == 9
    assert FollowUpMedication.objects.get(followup=fu).drug_name == "利培酮"
    assert fu.participants.get().name == "患者父亲"
    patient.refresh_from_db()
    assert patient.next_followup_due > today and patient.last_followup_date == today
    # The same page submitted again (double tap, back button) stores nothing new.
    again = client.post(f"/followups/patients/{patient.pk}/new/", data)
    assert again.status_code == 302 and again["Location"] == f"/followups/{fu.pk}/"
    assert FollowUp.objects.count() == 1


def test_missing_items_are_named_in_chinese(client: Any, doctor: Any, patient: Any) -> None:
    data = visit_post(timezone.localdate())
    del data["insight"], data["social"]
    response = client.post(f"/followups/patients/{patient.pk}/new/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_insight-error"' in html and 'id="id_social-error"' in html
    assert "自知力" in html
    assert not FollowUp.objects.exists()


def test_override_without_reason_is_refused_with_reason_is_kept(client: Any, doctor: Any, patient: Any) -> None:
    today = timezone.localdate()
    response = client.post(f"/followups/patients/{patient.pk}/new/", visit_post(today, classification="2"))
    assert response.status_code == 400
    assert 'id="id_override_reason-error"' in response.content.decode()
    response = client.post(f"/followups/patients/{patient.pk}/new/",
                           visit_post(today, classification="2", override_reason="近期家庭变故，需加强随访"))
    assert response.status_code == 302
    fu = FollowUp.objects.get()
    assert (fu.proposed_classification, fu.classification) == (3, 2)


def test_medication_line_errors_land_on_the_line(client: Any, doctor: Any, patient: Any) -> None:
    data = visit_post(timezone.localdate(), **{"med-1-drug_name": "某药", "med-1-times": "2"})
    response = client.post(f"/followups/patients/{patient.pk}/new/", data)
    assert response.status_code == 400
    assert 'id="id_med-1-dose-error"' in response.content.decode()


def test_failed_attempt_from_the_form(client: Any, doctor: Any, patient: Any) -> None:
    data = {"form_key": "k1", "followup_date": timezone.localdate().isoformat(), "outcome": "not_reached",
            "method": "3", "not_reached_reason": "电话关机",
            **{k: v for k, v in visit_post(timezone.localdate()).items() if k.startswith(("med-", "part-"))}}
    response = client.post(f"/followups/patients/{patient.pk}/new/", data)
    assert response.status_code == 302
    patient.refresh_from_db()
    assert patient.failed_attempts == 1


# --- The live proposal (htmx) ---------------------------------------------------------------------------

def test_proposal_partial_shows_class_date_and_actions(client: Any, doctor: Any, patient: Any) -> None:
    data = visit_post(date(2025, 3, 3), danger_level="4")
    response = client.post(f"/followups/patients/{patient.pk}/propose/", data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "不稳定" in html and 'data-class="1"' in html
    assert "2025-03-17" in html
    assert "<html" not in html  # a fragment
    assert not FollowUp.objects.exists()


def test_proposal_lists_what_is_missing(client: Any, doctor: Any, patient: Any) -> None:
    response = client.post(f"/followups/patients/{patient.pk}/propose/", {"followup_date": "2025-03-03",
                                                                            "outcome": "visited"})
    html = response.content.decode()
    assert response.status_code == 200 and "危险性" in html and "proposed-class" not in html


def test_regulator_may_not_propose_or_record(client: Any, cast: dict[str, Any], patient: Any) -> None:
    login_verified(client, cast["regulator"])
    assert client.get(f"/followups/patients/{patient.pk}/new/").status_code == 403
    assert client.post(f"/followups/patients/{patient.pk}/propose/", {}).status_code == 403


# --- Reading -------------------------------------------------------------------------------------------------

def _record_one(client: Any, patient: Any, **changes: Any) -> FollowUp:
    drug = MedicationCatalogue.objects.get(generic_name_zh="利培酮")
    data = visit_post(timezone.localdate(), **{"med-0-drug": str(drug.pk), "med-0-times": "2", "med-0-dose": "2"},
                      **changes)
    assert client.post(f"/followups/patients/{patient.pk}/new/", data).status_code == 302
    return FollowUp.objects.latest("id")


def test_list_and_detail_audited_with_fixed_queries(client: Any, doctor: Any, patient: Any,
                                                    django_assert_max_num_queries: Any) -> None:
    fu = _record_one(client, patient)
    with django_assert_max_num_queries(25):
        response = client.get(f"/followups/patients/{patient.pk}/")
    assert response.status_code == 200 and f"/followups/{fu.pk}/" in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.LIST, object_type="followups.followup").exists()
    detail = client.get(f"/followups/{fu.pk}/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "利培酮" in html and "稳定" in html
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, object_type="followups.followup",
                                     object_id=str(fu.pk)).exists()


def test_list_query_count_does_not_grow_with_follow_ups(client: Any, doctor: Any, patient: Any,
                                                        django_assert_num_queries: Any) -> None:
    _record_one(client, patient)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(f"/followups/patients/{patient.pk}/")
    for day in range(1, 6):
        FollowUp.objects.create(patient=patient, region_id=patient.region_id, followup_date=date(2024, 1, day),
                                outcome="not_reached", method=3, not_reached_reason="x")
    with CaptureQueriesContext(connection) as six:
        client.get(f"/followups/patients/{patient.pk}/")
    assert len(six) == len(one)


def test_regulator_sees_the_classification_but_not_the_medication(client: Any, doctor: Any, cast: dict[str, Any],
                                                                  patient: Any) -> None:
    fu = _record_one(client, patient)
    login_verified(client, cast["regulator"])
    html = client.get(f"/followups/{fu.pk}/").content.decode()
    assert "稳定" in html
    assert "利培酮" not in html and "服药依从性" not in html


def test_police_get_404_for_a_danger_0_patient_and_no_follow_up_content(client: Any, doctor: Any,
                                                                         cast: dict[str, Any], patient: Any) -> None:
    fu = _record_one(client, patient)
    login_verified(client, cast["police_a"])
    assert client.get(f"/followups/patients/{patient.pk}/").status_code == 404
    assert client.get(f"/followups/{fu.pk}/").status_code == 404
    # At danger 3 the police may see the patient (sharing rule) but still no clinical follow-up content.
    patient.danger_level = 3
    patient.save()
    assert client.get(f"/followups/patients/{patient.pk}/").status_code == 403
    assert client.get(f"/followups/{fu.pk}/").status_code == 404


def test_other_township_doctor_gets_404(client: Any, cast: dict[str, Any], patient: Any) -> None:
    login_verified(client, cast["community_doctor_b"])
    assert client.get(f"/followups/patients/{patient.pk}/new/").status_code == 404
    assert client.get(f"/followups/patients/{patient.pk}/").status_code == 404


# --- Health check and discharge forms -------------------------------------------------------------------------

def test_health_check_form(client: Any, doctor: Any, patient: Any) -> None:
    assert client.get(f"/followups/patients/{patient.pk}/health-check/").status_code == 200
    response = client.post(f"/followups/patients/{patient.pk}/health-check/", {
        "form_key": "hc1", "check_date": timezone.localdate().isoformat(), "consent": "1", "systolic_bp": "128",
        "diastolic_bp": "82", "weight_kg": "70.5", "alt": "30", "glucose": "5.4", "ecg": "1"})
    assert response.status_code == 302
    check = HealthCheck.objects.get()
    assert check.systolic_bp == 128 and check.consent
    assert client.get(response["Location"]).status_code == 200


def test_health_check_errors_are_named(client: Any, doctor: Any, patient: Any) -> None:
    response = client.post(f"/followups/patients/{patient.pk}/health-check/", {
        "form_key": "hc2", "check_date": timezone.localdate().isoformat(), "consent": "1", "systolic_bp": "128"})
    assert response.status_code == 400 and 'id="id_diastolic_bp-error"' in response.content.decode()


def test_discharge_form_by_a_psychiatrist(client: Any, cast: dict[str, Any], patient: Any) -> None:
    psychiatrist = cast["psychiatrist_a"]
    psychiatrist.organisation = hospital(patient.county_code)
    psychiatrist.save()
    login_verified(client, psychiatrist)
    assert client.get(f"/followups/patients/{patient.pk}/discharge/").status_code == 200
    today = timezone.localdate()
    drug = MedicationCatalogue.objects.get(generic_name_zh="帕利哌酮棕榈酸酯注射液")
    response = client.post(f"/followups/patients/{patient.pk}/discharge/", {
        "form_key": "d1", "admission_date": (today - timedelta(days=30)).isoformat(),
        "discharge_date": today.isoformat(), "diagnosis": "F20", "icd10_code": "F20.0", "effect": "2",
        "rehab_measures": ["1", "4"], "rehab_advice": "坚持服药，参加社区康复",
        "med-TOTAL_FORMS": "3", "med-INITIAL_FORMS": "0", "med-MIN_NUM_FORMS": "0", "med-MAX_NUM_FORMS": "10",
        "med-0-drug": str(drug.pk), "med-0-times": "1", "med-0-period": "month", "med-0-dose": "150",
        "med-0-unit": "mg", "med-1-period": "day", "med-1-unit": "mg", "med-2-period": "day", "med-2-unit": "mg"})
    assert response.status_code == 302, response.content.decode()[:2000]
    record = DischargeRecord.objects.get()
    assert record.rehab_measures == [1, 4] and record.medications.get().period == "month"
    html = client.get(response["Location"]).content.decode()
    assert "帕利哌酮棕榈酸酯注射液" in html
    patient.refresh_from_db()
    assert patient.awaiting_first_visit_since == today


def test_discharge_form_without_hospital_names_the_field(client: Any, cast: dict[str, Any], patient: Any) -> None:
    login_verified(client, cast["mhc_staff_a"])
    today = timezone.localdate()
    response = client.post(f"/followups/patients/{patient.pk}/discharge/", {
        "form_key": "d2", "admission_date": (today - timedelta(days=3)).isoformat(),
        "discharge_date": today.isoformat(), "diagnosis": "F20", "effect": "2",
        "med-TOTAL_FORMS": "0", "med-INITIAL_FORMS": "0", "med-MIN_NUM_FORMS": "0", "med-MAX_NUM_FORMS": "10"})
    assert response.status_code == 400 and 'id="id_hospital-error"' in response.content.decode()


def test_community_doctor_may_not_open_the_discharge_form(client: Any, doctor: Any, patient: Any) -> None:
    assert client.get(f"/followups/patients/{patient.pk}/discharge/").status_code == 403


def test_english_page(client: Any, doctor: Any, patient: Any) -> None:
    client.cookies["django_language"] = "en"
    html = client.get(f"/followups/patients/{patient.pk}/new/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Record a follow-up" in html
