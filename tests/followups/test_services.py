"""``followups.services``: recording follow-ups, health checks and discharges, and what they change.

Each write checks permission and scope, validates with field-named errors, runs the rules, keeps
the patient's work-list columns current in the same transaction, audits, and informs the police
or the home clinic after commit. A retry with the same key stores nothing new.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q

from tests.followups.factories import discharge, health_check, hospital, make_patient, not_reached, visit
from xinqiao.core.audit import verify_chain
from xinqiao.core.models import AuditAction, AuditEvent, Notification
from xinqiao.followups import services
from xinqiao.followups.codes import Outcome
from xinqiao.followups.models import FollowUp, FollowUpMedication, FollowUpParticipant, MedicationCatalogue
from xinqiao.followups.services import MedicationInput, ParticipantInput
from xinqiao.patients.codes import PatientStatus
from xinqiao.patients.models import StatusChange

TODAY = date(2025, 3, 10)
VISIT_DAY = date(2025, 3, 3)

pytestmark = pytest.mark.django_db


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return set(exc.value.message_dict)


@pytest.fixture
def patient(towns: Any) -> Any:
    return make_patient(towns[0], awaiting_first_visit_since=date(2025, 2, 20))


@pytest.fixture
def doctor(cast: dict[str, Any]) -> Any:
    return cast["community_doctor_a"]


def record(doctor: Any, patient: Any, data: Any, **kw: Any) -> Any:
    fu, created = services.record_followup(doctor, patient, data, today=TODAY, **kw)
    assert created
    patient.refresh_from_db()
    return fu


# --- A stable visit ----------------------------------------------------------------------------------

def test_stable_visit_is_stored_with_proposal_and_updates_the_patient(doctor: Any, patient: Any) -> None:
    drug = MedicationCatalogue.objects.get(generic_name_zh="奥氮平")
    data = visit(medications=(MedicationInput(times=1, dose=Decimal(10), drug_id=drug.pk),
                              MedicationInput(times=2, dose=Decimal("0.5"), drug_name="某自购药", unit="tablet")),
                 participants=(ParticipantInput(role="family", name="患者母亲"),))
    fu = record(doctor, patient, data)
    assert (fu.proposed_classification, fu.classification) == (3, 3)
    assert fu.proposed_next_date == fu.next_followup_date == date(2025, 6, 3)
    assert fu.actions == fu.proposed_actions == ["continue_plan"]
    assert fu.override_reason == "" and not fu.overridden
    assert fu.township_code == patient.township_code and fu.doctor == doctor
    assert [m.drug_name for m in FollowUpMedication.objects.filter(followup=fu)] == ["奥氮平", "某自购药"]
    assert FollowUpParticipant.objects.get(followup=fu).name == "患者母亲"
    assert (patient.last_followup_date, patient.last_classification, patient.next_followup_due) == (
        VISIT_DAY, 3, date(2025, 6, 3))
    assert patient.danger_level == 0 and patient.failed_attempts == 0
    assert patient.awaiting_first_visit_since is None
    event = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="followups.followup")
    assert event.object_id == str(fu.pk) and event.detail["classification"] == 3
    assert "患者母亲" not in str(event.detail)
    assert verify_chain().ok


def test_participant_name_is_encrypted_at_rest(doctor: Any, patient: Any) -> None:
    from django.db import connection

    fu = record(doctor, patient, visit(participants=(ParticipantInput(role="village_cadre", name="李村长"),)))
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM followups_followupparticipant WHERE followup_id = %s", [fu.pk])
        raw = cur.fetchone()[0]
    assert "李村长" not in raw and raw.startswith("v1.")


# --- Unstable: referral flag and police ----------------------------------------------------------------

def test_danger_3_refers_and_informs_the_township_police(doctor: Any, patient: Any, cast: dict[str, Any],
                                                         django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        fu = record(doctor, patient, visit(danger_level=3))
    assert fu.classification == 1 and fu.needs_referral and fu.police_notified
    assert fu.next_followup_date == date(2025, 3, 17)
    notes = Notification.objects.filter(kind="followup_police")
    assert {n.recipient_id for n in notes} == {cast["police_a"].pk}  # not police_b of township B
    assert patient.register_number in notes.get().title
    assert patient.person.name not in notes.get().title + notes.get().body
    assert patient.danger_level == 3


def test_police_are_not_told_below_the_threshold(doctor: Any, patient: Any,
                                                 django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        fu = record(doctor, patient, visit(insight=3))
    assert fu.classification == 1 and fu.needs_referral and not fu.police_notified
    assert not Notification.objects.filter(kind="followup_police").exists()


def test_police_recipients_are_active_police_of_the_township(cast: dict[str, Any], towns: Any) -> None:
    assert services.police_recipients(towns[0].code) == [cast["police_a"].pk]
    cast["police_a"].is_active = False
    cast["police_a"].save()
    assert services.police_recipients(towns[0].code) == []


# --- Override ---------------------------------------------------------------------------------------------

def test_override_needs_a_reason(doctor: Any, patient: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.record_followup(doctor, patient, visit(classification=2), today=TODAY)
    assert errors_of(caught) == {"override_reason"}
    assert not FollowUp.objects.exists()


def test_override_with_reason_keeps_both_proposal_and_decision(doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(classification=2, override_reason="家属反映近一周睡眠差，需密切观察"))
    assert (fu.proposed_classification, fu.classification) == (3, 2)
    assert fu.proposed_next_date == date(2025, 6, 3)
    assert fu.next_followup_date == date(2025, 3, 17)  # the overridden class's interval
    assert fu.actions == ["adjust_treatment"] and fu.proposed_actions == ["continue_plan"]
    assert fu.overridden and fu.override_reason.startswith("家属")
    assert patient.last_classification == 2 and patient.next_followup_due == date(2025, 3, 17)
    assert AuditEvent.objects.get(action="create", object_type="followups.followup").detail["overridden"] is True


def test_an_earlier_next_date_needs_a_reason_a_later_one_is_capped(doctor: Any, patient: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.record_followup(doctor, patient, visit(next_followup_date=date(2025, 5, 1)), today=TODAY)
    assert errors_of(caught) == {"override_reason"}
    with pytest.raises(ValidationError) as caught:
        services.record_followup(doctor, patient, visit(next_followup_date=date(2025, 6, 4),
                                                        override_reason="外出务工"), today=TODAY)
    assert errors_of(caught) == {"next_followup_date"}
    with pytest.raises(ValidationError) as caught:
        services.record_followup(doctor, patient, visit(next_followup_date=VISIT_DAY, override_reason="测试原因"),
                                 today=TODAY)
    assert errors_of(caught) == {"next_followup_date"}
    fu = record(doctor, patient, visit(next_followup_date=date(2025, 5, 1), override_reason="配合家属外出时间"))
    assert fu.next_followup_date == date(2025, 5, 1) and fu.overridden


def test_accepting_the_proposal_explicitly_needs_no_reason(doctor: Any, patient: Any) -> None:
    fu = record(doctor, patient, visit(classification=3, next_followup_date=date(2025, 6, 3)))
    assert not fu.overridden and fu.override_reason == ""


# --- Previous classification --------------------------------------------------------------------------------

def test_basically_stable_twice_consults_a_psychiatrist(doctor: Any, patient: Any) -> None:
    first = record(doctor, patient, visit(followup_date=date(2025, 2, 17), insight=2))
    assert first.previous_classification is None and first.next_followup_date == date(2025, 3, 3)
    second = record(doctor, patient, visit(insight=2))
    assert second.previous_classification == 2
    assert second.actions == ["adjust_treatment", "consult_psychiatrist"]
    assert second.next_followup_date == date(2025, 4, 3)


def test_back_dated_visit_does_not_overwrite_the_latest(doctor: Any, patient: Any) -> None:
    record(doctor, patient, visit())
    record(doctor, patient, visit(followup_date=date(2025, 1, 5), danger_level=1))
    assert patient.last_followup_date == VISIT_DAY and patient.last_classification == 3
    assert patient.danger_level == 0 and patient.next_followup_due == date(2025, 6, 3)


def test_incident_counts_set_the_incident_history(doctor: Any, patient: Any) -> None:
    record(doctor, patient, visit(minor_trouble_count=2))
    assert not patient.incident_history
    record(doctor, patient, visit(followup_date=date(2025, 3, 4), trouble_count=1, danger_level=2))
    assert patient.incident_history


# --- Failed attempts, 失访, death ----------------------------------------------------------------------------

def test_failed_attempts_count_and_a_visit_resets_them(doctor: Any, patient: Any) -> None:
    patient.next_followup_due = date(2025, 3, 1)
    patient.save()
    for day in (3, 4):
        fu = record(doctor, patient, not_reached(followup_date=date(2025, 3, day)))
        assert fu.outcome == Outcome.NOT_REACHED and fu.classification is None and fu.danger_level is None
    assert patient.failed_attempts == 2
    assert patient.next_followup_due == date(2025, 3, 1)  # still due
    assert patient.awaiting_first_visit_since == date(2025, 2, 20)
    record(doctor, patient, visit(followup_date=date(2025, 3, 5)))
    assert patient.failed_attempts == 0 and patient.next_followup_due == date(2025, 6, 5)


def test_failed_attempt_needs_method_and_reason(doctor: Any, patient: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.record_followup(doctor, patient, not_reached(method=None, not_reached_reason=" "), today=TODAY)
    assert errors_of(caught) == {"method", "not_reached_reason"}


def test_declaring_lost_moves_the_patient_to_lost_with_history(doctor: Any, patient: Any) -> None:
    record(doctor, patient, not_reached(loss_reason=4))
    assert patient.status == PatientStatus.LOST and patient.status_changed_on == VISIT_DAY
    change = StatusChange.objects.get(patient=patient)
    assert (change.from_status, change.to_status, change.loss_reason) == ("managed", "lost", 4)
    # A later visit brings the patient back under management.
    record(doctor, patient, visit(followup_date=date(2025, 3, 8)))
    assert patient.status == PatientStatus.MANAGED


def test_death_moves_the_patient_to_dead(doctor: Any, patient: Any) -> None:
    data = services.FollowUpInput(followup_date=VISIT_DAY, outcome=Outcome.DEAD, death_date=date(2025, 2, 28),
                                  death_cause=1, physical_death_cause=3)
    fu = record(doctor, patient, data)
    assert (fu.death_cause, fu.physical_death_cause) == (1, 3)
    assert patient.status == PatientStatus.DEAD and patient.next_followup_due is None
    change = StatusChange.objects.get(patient=patient, to_status="dead")
    assert (change.death_date, change.death_cause, change.physical_death_cause) == (date(2025, 2, 28), 1, 3)
    with pytest.raises(ValidationError) as caught:
        services.record_followup(doctor, patient, visit(followup_date=date(2025, 3, 4)), today=TODAY)
    assert "patient" in errors_of(caught)


@pytest.mark.parametrize(("change", "fields"), [
    ({"death_date": None, "death_cause": None}, {"death_date", "death_cause"}),
    ({"death_cause": 1, "physical_death_cause": None}, {"physical_death_cause"}),
    ({"death_cause": 2, "physical_death_cause": 3}, {"physical_death_cause"}),
    ({"death_date": TODAY + timedelta(days=1)}, {"death_date"}),
])
def test_death_errors_name_the_field(doctor: Any, patient: Any, change: dict[str, Any], fields: set[str]) -> None:
    base = {"followup_date": VISIT_DAY, "outcome": Outcome.DEAD, "death_date": date(2025, 3, 1), "death_cause": 2}
    with pytest.raises(ValidationError) as caught:
        services.record_followup(doctor, patient, services.FollowUpInput(**{**base, **change}), today=TODAY)
    assert errors_of(caught) == fields


def test_in_hospital_moves_status_and_back(doctor: Any, patient: Any) -> None:
    record(doctor, patient, visit(hospital_status=1))
    assert patient.status == PatientStatus.IN_HOSPITAL
    record(doctor, patient, visit(followup_date=date(2025, 3, 9), hospital_status=2,
                                  last_discharge_date=date(2025, 3, 8)))
    assert patient.status == PatientStatus.MANAGED


# --- Validation -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "fields"), [
    ({"insight": None, "self_care": None}, {"insight", "self_care"}),
    ({"danger_level": 6}, {"danger_level"}),
    ({"self_care": 9}, {"self_care"}),
    ({"work": 9}, set()),
    ({"symptoms": (13,)}, {"symptoms"}),
    ({"symptoms": (12,)}, {"symptoms_other"}),
    ({"rehab_measures": (5,)}, {"rehab_other"}),
    ({"lab_tests": 2}, {"lab_tests_text"}),
    ({"adverse_reaction": 2}, {"adverse_reaction_text"}),
    ({"adverse_reaction_serious": True}, {"adverse_reaction_serious"}),
    ({"referral": 2}, {"referral_reason", "referral_institution"}),
    ({"hospital_status": 2}, {"last_discharge_date"}),
    ({"followup_date": TODAY + timedelta(days=1)}, {"followup_date"}),
    ({"trouble_count": -1}, {"trouble_count"}),
    ({"medications": (MedicationInput(times=0, dose=Decimal(1), drug_name="x"),)}, {"medications.0.times"}),
    ({"medications": (MedicationInput(times=1, dose=Decimal(0), drug_id=999999),)},
     {"medications.0.drug_id", "medications.0.dose"}),
    ({"participants": (ParticipantInput(role="mayor", name="x"), ParticipantInput(role="family"))},
     {"participants.0.role", "participants.1.name"}),
])
def test_visit_errors_name_the_field(doctor: Any, patient: Any, change: dict[str, Any], fields: set[str]) -> None:
    if not fields:
        record(doctor, patient, visit(**change))
        return
    with pytest.raises(ValidationError) as caught:
        services.record_followup(doctor, patient, visit(**change), today=TODAY)
    assert errors_of(caught) == fields
    assert not FollowUp.objects.exists() and not AuditEvent.objects.filter(action="create").exists()


def test_errors_are_in_the_users_language(doctor: Any, patient: Any) -> None:
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as zh:
        services.record_followup(doctor, patient, visit(insight=None), today=TODAY)
    with translation.override("en"), pytest.raises(ValidationError) as en:
        services.record_followup(doctor, patient, visit(insight=None), today=TODAY)
    assert zh.value.message_dict["insight"] == ["这是必填项。"] or "必" in zh.value.message_dict["insight"][0]
    assert en.value.message_dict["insight"] == ["This field is required."]


# --- Permission, scope, idempotency ------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["regulator", "police_a", "community_doctor_b", "no_role"])
def test_refused_without_permission_or_outside_scope(cast: dict[str, Any], patient: Any, who: str) -> None:
    with pytest.raises(PermissionDenied):
        services.record_followup(cast[who], patient, visit(), today=TODAY)


def test_county_staff_and_psychiatrist_may_record(cast: dict[str, Any], patient: Any) -> None:
    for who, day in (("mhc_staff_a", 3), ("psychiatrist_a", 4)):
        services.record_followup(cast[who], patient, visit(followup_date=date(2025, 3, day)), today=TODAY)
    assert FollowUp.objects.count() == 2


def test_same_key_stores_once(doctor: Any, patient: Any) -> None:
    first, created = services.record_followup(doctor, patient, visit(), key="u1:abc", today=TODAY)
    again, created_again = services.record_followup(doctor, patient, visit(), key="u1:abc", today=TODAY)
    assert created and not created_again and first.pk == again.pk
    assert FollowUp.objects.count() == 1
    assert AuditEvent.objects.filter(action="create", object_type="followups.followup").count() == 1
    other = make_patient()
    with pytest.raises(ValidationError) as caught:
        services.record_followup(doctor, other, visit(), key="u1:abc", today=TODAY)
    assert errors_of(caught) == {"Idempotency-Key"}


# --- Proposal on a partly filled form ---------------------------------------------------------------------

def test_propose_for_needs_the_rules_inputs(patient: Any) -> None:
    assert services.propose_for(patient, visit(insight=None)) is None
    assert services.propose_for(patient, not_reached()) is None
    proposal = services.propose_for(patient, visit(danger_level=4))
    assert proposal is not None and proposal.classification == 1


# --- Health checks ------------------------------------------------------------------------------------------

def test_health_check_is_recorded_and_audited(doctor: Any, patient: Any) -> None:
    check, created = services.record_health_check(doctor, patient, health_check(), today=TODAY)
    assert created and check.systolic_bp == 120 and check.alt == Decimal(25)
    assert AuditEvent.objects.filter(action="create", object_type="followups.healthcheck").count() == 1


def test_health_check_without_consent_records_no_results(doctor: Any, patient: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.record_health_check(doctor, patient, health_check(consent=False), today=TODAY)
    assert errors_of(caught) == {"general_exam"}
    check, _ = services.record_health_check(doctor, patient, services.HealthCheckInput(
        check_date=VISIT_DAY, consent=False, note="家属拒绝"), today=TODAY)
    assert not check.consent and check.systolic_bp is None


@pytest.mark.parametrize(("change", "fields"), [
    ({"systolic_bp": 400}, {"systolic_bp"}),
    ({"diastolic_bp": None}, {"diastolic_bp"}),
    ({"diastolic_bp": 130}, {"diastolic_bp"}),
    ({"ecg": 2}, {"ecg_text"}),
    ({"glucose": Decimal(99)}, {"glucose"}),
])
def test_health_check_errors_name_the_field(doctor: Any, patient: Any, change: dict[str, Any],
                                            fields: set[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        services.record_health_check(doctor, patient, health_check(**change), today=TODAY)
    assert errors_of(caught) == fields


def test_psychiatrist_may_not_record_a_health_check(cast: dict[str, Any], patient: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.record_health_check(cast["psychiatrist_a"], patient, health_check(), today=TODAY)


# --- Discharges ---------------------------------------------------------------------------------------------

@pytest.fixture
def psychiatrist(cast: dict[str, Any], towns: Any) -> Any:
    user = cast["psychiatrist_a"]
    user.organisation = hospital(towns[0].county_code)
    user.save()
    return user


def test_discharge_notifies_the_home_clinic_and_awaits_a_first_visit(
        psychiatrist: Any, patient: Any, django_capture_on_commit_callbacks: Any) -> None:
    patient.status = PatientStatus.IN_HOSPITAL
    patient.next_followup_due = date(2025, 6, 1)
    patient.save()
    with django_capture_on_commit_callbacks(execute=True):
        record, created = services.record_discharge(psychiatrist, patient, discharge(discharge_date=date(2025, 3, 3)),
                                                    today=TODAY)
    assert created and record.hospital == psychiatrist.organisation
    # 10 working days after Monday 3 March 2025: Monday 17 March.
    assert record.report_deadline == date(2025, 3, 17) and not record.late and not record.deadline_uncertain
    assert [m.drug_name for m in record.medications.all()] == ["帕利哌酮棕榈酸酯注射液"]
    patient.refresh_from_db()
    assert patient.awaiting_first_visit_since == TODAY
    assert patient.next_followup_due == TODAY + timedelta(days=14)
    assert patient.status == PatientStatus.MANAGED
    note = Notification.objects.get(kind="discharge")
    assert note.recipient_organisation_id == patient.managing_organisation_id
    assert patient.register_number in note.title
    assert AuditEvent.objects.filter(action="create", object_type="followups.dischargerecord").count() == 1


def test_discharge_deadline_crosses_the_national_day_holiday(psychiatrist: Any, patient: Any) -> None:
    # Discharged Friday 27 Sep 2024. 1–7 October is the National Day holiday; Sunday 29 Sep and Saturday
    # 12 Oct are working days (调休): 29, 30 Sep, 8, 9, 10, 11, 12, 14, 15, 16 Oct → due Wednesday 16 October
    # (weekends alone would give Friday 11 October).
    on_time, _ = services.record_discharge(psychiatrist, patient, discharge(
        admission_date=date(2024, 9, 1), discharge_date=date(2024, 9, 27)), today=date(2024, 10, 16))
    assert on_time.report_deadline == date(2024, 10, 16) and not on_time.late
    late, _ = services.record_discharge(psychiatrist, patient, discharge(
        admission_date=date(2024, 9, 1), discharge_date=date(2024, 9, 27)), today=date(2024, 10, 17))
    assert late.late


@pytest.mark.parametrize(("change", "fields"), [
    ({"admission_date": date(2025, 3, 5)}, {"admission_date"}),
    ({"discharge_date": TODAY + timedelta(days=1)}, {"discharge_date"}),
    ({"diagnosis": "F32"}, {"diagnosis"}),
    ({"effect": 9}, {"effect"}),
    ({"rehab_measures": (6,)}, {"rehab_measures"}),
])
def test_discharge_errors_name_the_field(psychiatrist: Any, patient: Any, change: dict[str, Any],
                                         fields: set[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        services.record_discharge(psychiatrist, patient, discharge(**change), today=TODAY)
    assert errors_of(caught) == fields


def test_discharge_needs_a_hospital(cast: dict[str, Any], patient: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        services.record_discharge(cast["mhc_staff_a"], patient, discharge(), today=TODAY)
    assert errors_of(caught) == {"hospital_id"}


def test_community_doctor_may_not_record_a_discharge(doctor: Any, patient: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.record_discharge(doctor, patient, discharge(), today=TODAY)


def test_nothing_is_written_for_out_of_region_or_refused_writes(cast: dict[str, Any], towns: Any) -> None:
    other = make_patient(towns[1])
    with pytest.raises(PermissionDenied):
        services.record_followup(cast["community_doctor_a"], other, visit(), today=TODAY)
    assert not FollowUp.objects.filter(Q(patient=other)).exists()
