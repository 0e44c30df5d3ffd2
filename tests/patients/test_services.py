"""Registration through the three ways in, de-duplication, the status lifecycle, transfers and merges."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from tests.factories import PersonFactory
from tests.patients.conftest import TODAY, case_report_input, new_id_number, person_input
from tests.patients.factories import PatientFactory
from xinqiao.core.audit import verify_chain
from xinqiao.core.models import AuditEvent, Notification, Person, Region
from xinqiao.patients import services
from xinqiao.patients.codes import (
    DangerLevel,
    PatientStatus,
    RegistrationSource,
    SuspectedStatus,
    TransferStatus,
)
from xinqiao.patients.models import (
    CaseReport,
    Patient,
    PersonalSupplement,
    StatusChange,
    SuspectedCase,
    Transfer,
)
from xinqiao.patients.services import (
    DiagnosisInput,
    StatusInput,
    SupplementInput,
    SuspectedCaseInput,
    TransferInput,
)

pytestmark = pytest.mark.django_db


# --- Case reports -------------------------------------------------------------------------------------------


def test_case_report_registers_the_patient_in_the_home_township(
        cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any], today: date,
        django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report = services.register_from_case_report(cast["psychiatrist_a"],
                                                    case_report_input(towns[0], orgs["hospital"]))
    patient = report.patient
    assert patient is not None
    assert (patient.region_id, patient.source, patient.status) == (towns[0].code, RegistrationSource.CASE_REPORT,
                                                                   PatientStatus.MANAGED)
    assert patient.register_number == f"{towns[0].county_code}2026000001"
    assert patient.managing_organisation == orgs["clinic_a"]
    assert patient.awaiting_first_visit_since == TODAY and patient.next_followup_due == date(2026, 3, 24)
    # Diagnosed Mon 2 March: due 16 March (10 working days); entered 10 March, on time.
    assert (report.report_deadline, report.late, report.deadline_uncertain) == (date(2026, 3, 16), False, False)
    assert report.reporting_unit == orgs["hospital"]
    assert StatusChange.objects.filter(patient=patient, from_status="", to_status="managed").count() == 1
    actions = set(AuditEvent.objects.values_list("object_type", "action"))
    assert {("core.person", "create"), ("patients.patient", "create"), ("patients.casereport", "create")} <= actions
    assert Notification.objects.filter(kind="patients.new_patient", recipient_organisation=orgs["clinic_a"]).exists()
    assert verify_chain().ok


def test_late_case_report_is_flagged_and_the_county_centre_told(
        cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any], today: date,
        django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report = services.register_from_case_report(
            cast["psychiatrist_a"], case_report_input(towns[0], orgs["hospital"], diagnosed_on=date(2026, 2, 13)))
    # Diagnosed Fri 13 Feb, due Thu 5 March across the Spring Festival; entered 10 March.
    assert report.report_deadline == date(2026, 3, 5) and report.late
    assert Notification.objects.filter(kind="patients.late_case_report",
                                       recipient_organisation=orgs["centre_a"]).count() == 1


def test_written_report_entered_by_the_county(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                              today: date) -> None:
    data = case_report_input(towns[0], orgs["hospital"], diagnosed_on=date(2026, 2, 26), entry="written",
                             reporting_unit_id=orgs["hospital"].pk)
    with pytest.raises(ValidationError) as exc:
        services.register_from_case_report(cast["mhc_staff_a"], data)
    assert set(exc.value.message_dict) == {"received_on"}
    report = services.register_from_case_report(cast["mhc_staff_a"], replace(data, received_on=date(2026, 3, 4)))
    # Card received Wed 4 March (within 10 working days of 26 Feb): county due Wed 11 March.
    assert report.entry_deadline == date(2026, 3, 11) and not report.late
    assert report.received_on == date(2026, 3, 4)


def test_case_report_errors_name_the_fields(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                            today: date) -> None:
    data = case_report_input(towns[0], orgs["hospital"], report_type=3, brought_by=9,
                             diagnosis=DiagnosisInput("F06", "F20.0", "", orgs["clinic_a"].pk, TODAY + timedelta(days=1)))
    with pytest.raises(ValidationError) as exc:
        services.register_from_case_report(cast["psychiatrist_a"], data)
    assert set(exc.value.message_dict) == {"icd10_code", "co_icd10_code", "diagnosing_hospital", "diagnosed_on",
                                           "report_type", "brought_by"}
    assert not Patient.objects.exists() and not Person.objects.exists()


def test_case_report_needs_the_permission(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                          today: date) -> None:
    with pytest.raises(PermissionDenied):
        services.register_from_case_report(cast["community_doctor_a"], case_report_input(towns[0], orgs["hospital"]))


def test_case_report_is_idempotent_by_key(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                          today: date) -> None:
    data = case_report_input(towns[0], orgs["hospital"], key="hospital-system:123")
    first = services.register_from_case_report(cast["psychiatrist_a"], data)
    again = services.register_from_case_report(cast["psychiatrist_a"], data)
    assert first.pk == again.pk and CaseReport.objects.count() == Patient.objects.count() == 1


def test_prior_incident_sets_the_history_flag(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                              today: date) -> None:
    report = services.register_from_case_report(
        cast["psychiatrist_a"], case_report_input(towns[0], orgs["hospital"], prior_danger=("trouble",), danger_level=3))
    assert report.patient is not None and report.patient.incident_history and report.patient.danger_level == 3


# --- De-duplication ------------------------------------------------------------------------------------------


def test_existing_person_is_reused(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                   today: date) -> None:
    person = PersonFactory(region=towns[0], phone="")
    report = services.register_from_case_report(
        cast["psychiatrist_a"], case_report_input(towns[0], orgs["hospital"], id_number=person.id_number.lower()))
    assert report.person_id == person.pk and Person.objects.count() == 1
    person.refresh_from_db()
    assert person.phone == "13900001111"  # a blank was completed, nothing overwritten


def test_second_registration_names_the_register_number_to_who_may_see_it(
        cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any], today: date) -> None:
    first = services.register_from_case_report(cast["psychiatrist_a"], case_report_input(towns[0], orgs["hospital"]))
    assert first.patient is not None
    number = first.person.id_number
    with pytest.raises(ValidationError) as exc:
        services.register_from_case_report(cast["mhc_staff_a"],
                                           case_report_input(towns[0], orgs["hospital"], id_number=number))
    assert first.patient.register_number in exc.value.message_dict["id_number"][0]
    # County B's centre cannot see township A: a neutral message, no register number.
    with pytest.raises(ValidationError) as exc:
        services.register_from_case_report(cast["mhc_staff_b"],
                                           case_report_input(towns[1], orgs["hospital"], id_number=number))
    message = exc.value.message_dict["id_number"][0]
    assert first.patient.register_number not in message and "2026" not in message
    assert Patient.objects.count() == 1


# --- Community discovery -----------------------------------------------------------------------------------


def _suspected(cast: dict[str, Any], town: Region, **kw: Any) -> SuspectedCase:
    data = SuspectedCaseInput(person=person_input(town), found_by="village_committee", discovered_on=TODAY,
                              reporter_name="村委会 张主任", symptoms=(1, 3), description="夜间喊叫", **kw)
    return services.report_suspected_case(cast["community_doctor_a"], data)


def test_suspected_case_referred_then_confirmed_registers(cast: dict[str, Any], towns: list[Region],
                                                          orgs: dict[str, Any], today: date) -> None:
    case = _suspected(cast, towns[0])
    with pytest.raises(PermissionDenied):  # a community doctor does not diagnose
        services.confirm_suspected_case(cast["community_doctor_a"], case,
                                        DiagnosisInput("F20", "F20.0", "", orgs["hospital"].pk, TODAY))
    services.refer_suspected_case(cast["community_doctor_a"], case, orgs["hospital"].pk, TODAY)
    patient = services.confirm_suspected_case(cast["psychiatrist_a"], case,
                                              DiagnosisInput("F31", "F31.1", "", orgs["hospital"].pk, TODAY))
    case.refresh_from_db()
    assert case.status == SuspectedStatus.CONFIRMED and case.patient == patient
    assert patient.person_id == case.person_id and patient.source == RegistrationSource.COMMUNITY
    assert [(e.from_status, e.to_status) for e in case.events.all()] == [
        ("", "reported"), ("reported", "referred"), ("referred", "confirmed")]
    with pytest.raises(ValidationError) as exc:
        services.close_suspected_case(cast["community_doctor_a"], case, "不是病例")
    assert "status" in exc.value.message_dict


def test_suspected_case_closed_as_not_a_case(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                             today: date) -> None:
    case = _suspected(cast, towns[0])
    services.close_suspected_case(cast["community_doctor_a"], case, "确诊为抑郁发作，不属六类")
    case.refresh_from_db()
    assert case.status == SuspectedStatus.CLOSED and case.closing_reason.startswith("确诊")
    assert not Patient.objects.exists()
    raw = connection.cursor().execute("SELECT description FROM patients_suspectedcase").fetchone()[0]  # type: ignore[union-attr]
    assert raw.startswith("v1.")


def test_suspected_case_outside_the_region_is_refused(cast: dict[str, Any], towns: list[Region],
                                                      today: date) -> None:
    with pytest.raises(ValidationError) as exc:
        services.report_suspected_case(cast["community_doctor_a"], SuspectedCaseInput(
            person=person_input(towns[1]), found_by="doctor", discovered_on=TODAY))
    assert set(exc.value.message_dict) == {"region_code"}


def test_suspected_case_without_id_number_is_confirmed_on_that_person(
        cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any], today: date) -> None:
    case = services.report_suspected_case(cast["community_doctor_a"], SuspectedCaseInput(
        person=person_input(towns[0], id_number=""), found_by="doctor", discovered_on=TODAY))
    patient = services.confirm_suspected_case(cast["mhc_staff_a"], case,
                                              DiagnosisInput("F20", "F20.3", "", orgs["hospital"].pk, TODAY))
    assert patient.person_id == case.person_id and Person.objects.count() == 1


# --- Status lifecycle ------------------------------------------------------------------------------------------


def test_status_changes_keep_history_and_the_register_count(cast: dict[str, Any], towns: list[Region],
                                                            orgs: dict[str, Any], today: date) -> None:
    patients = [PatientFactory(region=towns[0]) for _ in range(3)]
    doctor = cast["community_doctor_a"]
    with pytest.raises(ValidationError) as exc:
        services.change_status(doctor, patients[0], StatusInput("lost", TODAY))
    assert set(exc.value.message_dict) == {"loss_reason"}
    services.change_status(doctor, patients[0], StatusInput("lost", TODAY, loss_reason=1))
    services.change_status(doctor, patients[1], StatusInput("dead", TODAY, death_date=TODAY, death_cause=1,
                                                            physical_death_cause=3))
    with pytest.raises(ValidationError) as exc:
        services.change_status(doctor, patients[1], StatusInput("managed", TODAY))
    assert set(exc.value.message_dict) == {"to_status"}
    services.change_status(doctor, patients[2], StatusInput("moved_out", TODAY, destination="北京市朝阳区"))
    assert services.registered_count(Patient.objects.restrict(doctor)) == 1  # the lost one is still 在册
    dead = StatusChange.objects.get(patient=patients[1])
    assert (dead.from_status, dead.to_status, dead.death_cause, dead.physical_death_cause) == ("managed", "dead", 1, 3)
    patients[1].refresh_from_db()
    assert patients[1].next_followup_due is None and patients[1].status_changed_on == TODAY
    counts = services.status_counts(Patient.objects.restrict(doctor))
    assert counts == {"managed": 0, "in_hospital": 0, "lost": 1, "moved_out": 1, "dead": 1, "deregistered": 0}
    with pytest.raises(PermissionDenied):
        services.change_status(cast["police_a"], patients[0], StatusInput("managed", TODAY))


# --- Supplement ----------------------------------------------------------------------------------------------------


def test_supplement_sets_incident_history_and_masks_per_role(cast: dict[str, Any], towns: list[Region],
                                                             today: date) -> None:
    patient = PatientFactory(region=towns[0], danger_level=3)
    data = SupplementInput(guardian_name="王监护", guardian_relation="父亲", guardian_phone="13700002222",
                           household=2, employment=3, consent=1, consent_signed_by="王监护", consent_date=TODAY,
                           past_symptoms=[1, 7], behaviour_counts={"trouble": 1}, economic_status=1,
                           poverty_alleviation=True, guardianship_subsidy=True, disability_card=True,
                           disability_grade=2)
    supplement = services.save_supplement(cast["community_doctor_a"], patient, data)
    patient.refresh_from_db()
    assert patient.incident_history and supplement.trouble_count == 1
    raw = connection.cursor().execute("SELECT guardian_name FROM patients_personalsupplement").fetchone()[0]  # type: ignore[union-attr]
    assert raw.startswith("v1.")
    police = services.view_patient(cast["police_a"], patient)
    assert police.supplement == {"guardian_name": "王**", "guardian_relation": "父*", "guardian_address": "",
                                 "guardian_phone": "1**********"}
    assert "diagnosis" not in police.patient and police.patient["danger_level"] == str(DangerLevel(3).label)
    civil = services.view_patient(cast["civil_affairs_a"], patient)
    assert civil.supplement is not None
    assert civil.supplement["poverty_alleviation"] is True and civil.supplement["guardianship_subsidy"] is True
    assert "diagnosis" not in civil.patient and "trouble_count" not in civil.supplement
    assert "disability_card" not in civil.supplement


def test_supplement_errors_name_the_fields(cast: dict[str, Any], towns: list[Region], today: date) -> None:
    patient = PatientFactory(region=towns[0])
    with pytest.raises(ValidationError) as exc:
        services.save_supplement(cast["community_doctor_a"], patient, SupplementInput(
            household=5, consent=1, past_symptoms=[13], disability_grade=2, onset_date=TODAY + timedelta(days=3),
            behaviour_counts={"self_harm": -1}))
    assert set(exc.value.message_dict) == {"household", "consent_signed_by", "consent_date", "past_symptoms",
                                           "disability_grade", "onset_date", "self_harm_count"}
    assert not PersonalSupplement.objects.exists()


# --- Transfers -------------------------------------------------------------------------------------------------


def test_transfer_waits_for_the_receiving_region_then_moves_everything(
        cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any], today: date,
        django_capture_on_commit_callbacks: Any) -> None:
    patient = PatientFactory(region=towns[0])
    services.save_supplement(cast["community_doctor_a"], patient, SupplementInput(guardian_name="赵某"))
    a, b = cast["community_doctor_a"], cast["community_doctor_b"]
    with django_capture_on_commit_callbacks(execute=True):
        transfer = services.request_transfer(a, patient, TransferInput(towns[1].code, TODAY, reason="随子女迁居",
                                                                        new_address="白云区新居1号"))
    assert Notification.objects.filter(kind="patients.transfer", recipient_organisation=orgs["clinic_b"]).exists()
    assert not Patient.objects.restrict(b).filter(pk=patient.pk).exists()  # not on B's register yet
    assert list(Transfer.objects.incoming(b)) == [transfer]
    assert Transfer.objects.restrict(a).filter(pk=transfer.pk).exists()  # the sender follows it
    with pytest.raises(PermissionDenied):
        services.accept_transfer(a, transfer)  # only the receiving region answers
    with pytest.raises(ValidationError):
        services.request_transfer(a, patient, TransferInput(towns[1].code, TODAY))  # one pending at a time
    services.accept_transfer(b, transfer)
    patient.refresh_from_db()
    assert patient.region_id == towns[1].code and patient.county_code == towns[1].county_code
    assert patient.managing_organisation == orgs["clinic_b"] and patient.status == PatientStatus.MANAGED
    assert not Patient.objects.restrict(a).filter(pk=patient.pk).exists()
    assert Patient.objects.restrict(b).filter(pk=patient.pk).exists()
    assert PersonalSupplement.objects.get(patient=patient).township_code == towns[1].code
    assert set(StatusChange.objects.filter(patient=patient).values_list("township_code", flat=True)) == {towns[1].code}
    person = Person.objects.get(pk=patient.person_id)
    assert person.region_id == towns[1].code and person.address == "白云区新居1号"
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.ACCEPTED and transfer.from_township_code == towns[0].code


def test_declined_transfer_leaves_the_patient(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                              today: date) -> None:
    patient = PatientFactory(region=towns[0])
    transfer = services.request_transfer(cast["community_doctor_a"], patient, TransferInput(towns[1].code, TODAY))
    with pytest.raises(ValidationError):
        services.decline_transfer(cast["community_doctor_b"], transfer, "")
    services.decline_transfer(cast["community_doctor_b"], transfer, "查无此人")
    patient.refresh_from_db()
    assert patient.region_id == towns[0].code
    with pytest.raises(ValidationError):
        services.accept_transfer(cast["community_doctor_b"], transfer)


def test_transfer_of_a_dead_patient_is_refused(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                               today: date) -> None:
    patient = PatientFactory(region=towns[0], status=PatientStatus.DEAD)
    with pytest.raises(ValidationError) as exc:
        services.request_transfer(cast["community_doctor_a"], patient, TransferInput(towns[0].code, TODAY))
    assert set(exc.value.message_dict) == {"patient", "to_region"}


# --- Partner scope ------------------------------------------------------------------------------------------


def test_partner_roles_see_danger_3_or_incident_history_only(cast: dict[str, Any], towns: list[Region]) -> None:
    calm = PatientFactory(region=towns[0], danger_level=0)
    risky = PatientFactory(region=towns[0], danger_level=3)
    history = PatientFactory(region=towns[0], danger_level=1, incident_history=True)
    PatientFactory(region=towns[1], danger_level=5)
    for role in ("police_a", "civil_affairs_a", "zongzhi_a", "grid_worker_a"):
        assert set(Patient.objects.restrict(cast[role])) == {risky, history}, role
    assert set(Patient.objects.restrict(cast["community_doctor_a"])) == {calm, risky, history}


# --- Merge ---------------------------------------------------------------------------------------------------------


def test_merge_moves_the_records_and_is_audited(cast: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                                today: date) -> None:
    number = new_id_number(towns[0])
    keep_person = PersonFactory(region=towns[0], id_number=number)
    drop_person = PersonFactory(region=towns[0], id_number=number, phone="")
    assert keep_person.id_number_index == drop_person.id_number_index
    kept = PatientFactory(region=towns[0], person=keep_person, registered_on=date(2026, 2, 1))
    dropped = PatientFactory(region=towns[0], person=drop_person, registered_on=date(2026, 1, 2), danger_level=4)
    services.change_status(cast["community_doctor_a"], dropped, StatusInput("in_hospital", TODAY))
    services.save_supplement(cast["community_doctor_a"], dropped, SupplementInput(guardian_name="钱某"))
    staff = cast["mhc_staff_a"]
    assert [[p.pk for p in g] for g in services.duplicate_groups(staff)] == [[keep_person.pk, drop_person.pk]]
    with pytest.raises(PermissionDenied):
        services.merge_persons(cast["community_doctor_a"], keep_person, drop_person, "重复建档")
    merge = services.merge_persons(staff, keep_person, drop_person, "重复建档，保留先建者")
    assert not Person.objects.filter(pk=drop_person.pk).exists()
    assert not Patient.objects.filter(pk=dropped.pk).exists()
    kept.refresh_from_db()
    assert kept.danger_level == 4 and kept.registered_on == date(2026, 1, 2)
    assert StatusChange.objects.filter(patient=kept, to_status="in_hospital").exists()
    assert PersonalSupplement.objects.get(patient=kept).guardian_name == "钱某"
    assert merge.dropped_register_number == dropped.register_number
    assert merge.moved["patients.statuschange.patient"] == 1
    event = AuditEvent.objects.get(action="merge")
    assert event.object_id == str(kept.pk) and event.detail["dropped_person"] == drop_person.pk
    assert services.duplicate_groups(staff) == []
    assert verify_chain().ok


def test_merge_refuses_out_of_scope_and_different_numbers(cast: dict[str, Any], towns: list[Region]) -> None:
    a1 = PersonFactory(region=towns[0])
    a2 = PersonFactory(region=towns[0])
    with pytest.raises(ValidationError) as exc:
        services.merge_persons(cast["mhc_staff_a"], a1, a2, "重复建档")
    assert set(exc.value.message_dict) == {"drop"}
    number = new_id_number(towns[0])
    b1 = PersonFactory(region=towns[1], id_number=number)
    a3 = PersonFactory(region=towns[0], id_number=number)
    with pytest.raises(ValidationError) as exc:
        services.merge_persons(cast["mhc_staff_a"], a3, b1, "重复建档")
    assert set(exc.value.message_dict) == {"drop"}


# --- Register numbers -----------------------------------------------------------------------------------------


def test_register_numbers_are_sequential_per_county_and_year(db: Any) -> None:
    assert services.next_register_numbers("440106", 2026, 3) == [
        "4401062026000001", "4401062026000002", "4401062026000003"]
    assert services.next_register_numbers("440106", 2026) == ["4401062026000004"]
    assert services.next_register_numbers("440111", 2026) == ["4401112026000001"]


# --- The merge command -----------------------------------------------------------------------------------------


def test_merge_command_lists_ids_only_and_merges_as_the_actor(cast: dict[str, Any], towns: list[Region]) -> None:
    import json
    from io import StringIO

    from django.core.management import CommandError, call_command

    number = new_id_number(towns[0])
    keep = PersonFactory(region=towns[0], id_number=number)
    drop = PersonFactory(region=towns[0], id_number=number)
    dropped = PatientFactory(region=towns[0], person=drop)
    out = StringIO()
    call_command("merge_patients", "--list", "--json", stdout=out)
    groups = json.loads(out.getvalue())
    assert groups == [[{"person_id": keep.pk, "township_code": towns[0].code, "register_number": None},
                       {"person_id": drop.pk, "township_code": towns[0].code,
                        "register_number": dropped.register_number}]]
    assert keep.name not in out.getvalue()
    with pytest.raises(CommandError, match="may not merge"):
        call_command("merge_patients", "--keep", keep.pk, "--drop", drop.pk, "--reason", "重复建档",
                     "--actor", "community_doctor_a")
    call_command("merge_patients", "--keep", keep.pk, "--drop", drop.pk, "--reason", "重复建档",
                 "--actor", "mhc_staff_a", stdout=StringIO())
    assert Patient.objects.get().person_id == keep.pk
    assert AuditEvent.objects.filter(action="merge", actor_username="mhc_staff_a").exists()
