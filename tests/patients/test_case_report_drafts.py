"""Case reports pending before they are entered: drafts, their working-day clock and who sees them.

《严重精神障碍发病报告管理办法（试行）》(2013; DOMAIN.md §5): a hospital enters a confirmed case within 10
working days of the diagnosis; a unit without access sends the card and the county centre enters it
within 5 working days of receipt. The clock starts when the diagnosis is known to the system — a
hospital's draft, a written card received by the county, a confirmed suspected case — not at entry.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import verified_client
from tests.patients.conftest import TODAY, case_report_input, person_input
from xinqiao.core.models import AuditEvent, Region
from xinqiao.patients import rules, services
from xinqiao.patients.codes import CaseReportStatus, RegistrationSource
from xinqiao.patients.models import CaseReport, Patient
from xinqiao.patients.services import DiagnosisInput, SuspectedCaseInput

# --- The rule, from the wording (no database) -----------------------------------------------------------


def test_pending_deadline_crosses_national_day_2026() -> None:
    # Diagnosed Tue 29 Sep 2026: 30 Sep, then 国庆 1–7 Oct, 8, 9, Sat 10 Oct (调休 working day), 12–16, 19.
    due = rules.pending_case_report_due(date(2026, 9, 29))
    assert (due.report_deadline, due.entry_deadline, due.certain) == (date(2026, 10, 19), None, True)
    assert not due.overdue(date(2026, 10, 19)) and due.overdue(date(2026, 10, 20))
    # Counting weekends only would have said 13 October: the holiday calendar matters.
    assert not due.overdue(date(2026, 10, 14))


def test_written_card_gives_the_county_five_working_days_from_receipt() -> None:
    # Diagnosed Fri 25 Sep 2026: the card is due at the county by Thu 15 Oct; received Fri 9 Oct,
    # the county enters it by Thu 15 Oct (Sat 10 Oct is a working day, 11 Oct a Sunday).
    due = rules.pending_case_report_due(date(2026, 9, 25), received_on=date(2026, 10, 9))
    assert (due.report_deadline, due.entry_deadline, due.due) == (date(2026, 10, 15), date(2026, 10, 15),
                                                                    date(2026, 10, 15))
    assert not due.overdue(date(2026, 10, 15)) and due.overdue(date(2026, 10, 16))
    # A card that reached the county after the hospital's 10 days is late at once.
    sent_late = rules.pending_case_report_due(date(2026, 9, 25), received_on=date(2026, 10, 16))
    assert sent_late.entry_deadline == date(2026, 10, 23) and sent_late.overdue(date(2026, 10, 16))


@given(diagnosed=st.dates(date(2025, 1, 1), date(2026, 12, 1)), offset=st.integers(0, 60))
def test_overdue_is_exactly_past_the_running_deadline(diagnosed: date, offset: int) -> None:
    due = rules.pending_case_report_due(diagnosed)
    today = diagnosed + timedelta(days=offset)
    assert due.overdue(today) == (today > due.report_deadline)
    # The pending deadline is the one an entry on that day would have been judged by.
    entered = rules.case_report_timeliness(diagnosed, today)
    assert (entered.report_deadline, entered.late) == (due.report_deadline, due.overdue(today))


# --- Drafts (services) ------------------------------------------------------------------------------------


@pytest.fixture
def staffed(cast: dict[str, Any], orgs: dict[str, Any]) -> dict[str, Any]:
    """The psychiatrist works at the county-A hospital, the county centre staff at the centres."""
    for key, org in (("psychiatrist_a", "hospital"), ("mhc_staff_a", "centre_a"), ("mhc_staff_b", "centre_b")):
        cast[key].organisation = orgs[org]
        cast[key].save(update_fields=["organisation"])
    return cast


@pytest.mark.django_db
def test_a_hospital_draft_is_not_a_registration(staffed: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                                today: date) -> None:
    data = case_report_input(towns[0], orgs["hospital"], diagnosed_on=date(2026, 3, 2), report_type=0,
                             brought_by=0, key="draft:1")
    draft = services.save_case_report_draft(staffed["psychiatrist_a"], data)
    assert (draft.status, draft.patient, draft.entered_on, draft.report_type, draft.brought_by) == (
        CaseReportStatus.DRAFT, None, None, None, None)
    assert (draft.report_deadline, draft.late, draft.region_id) == (date(2026, 3, 16), False, towns[0].code)
    assert draft.reporting_unit == orgs["hospital"] and not Patient.objects.exists()
    assert services.save_case_report_draft(staffed["psychiatrist_a"], data).pk == draft.pk  # idempotent by key
    assert AuditEvent.objects.filter(object_type="patients.casereport", action="create").count() == 1


@pytest.mark.django_db
def test_draft_errors_name_the_fields_and_write_nothing(staffed: dict[str, Any], towns: list[Region],
                                                         orgs: dict[str, Any], today: date) -> None:
    data = case_report_input(towns[0], orgs["hospital"], report_type=3,
                             diagnosis=DiagnosisInput("F20", "F31.0", "", orgs["hospital"].pk, None))
    with pytest.raises(ValidationError) as exc:
        services.save_case_report_draft(staffed["psychiatrist_a"], data)
    assert set(exc.value.message_dict) == {"icd10_code", "diagnosed_on", "report_type"}
    bad_town = replace(case_report_input(towns[0], orgs["hospital"]),
                       person=replace(person_input(towns[0]), region_code=towns[0].county_code))
    with pytest.raises(ValidationError) as exc:
        services.save_case_report_draft(staffed["psychiatrist_a"], bad_town)
    assert set(exc.value.message_dict) == {"region_code"}
    assert not CaseReport.objects.exists()


@pytest.mark.django_db
def test_entering_a_hospital_draft_registers_and_keeps_a_flagged_late(
        staffed: dict[str, Any], towns: list[Region], orgs: dict[str, Any], today: date,
        django_capture_on_commit_callbacks: Any) -> None:
    draft = services.save_case_report_draft(staffed["psychiatrist_a"], case_report_input(
        towns[0], orgs["hospital"], diagnosed_on=date(2026, 3, 2), report_type=0, brought_by=0))
    # The daily job ran on a day past the deadline (in this test, marked directly as it would).
    assert services.mark_overdue_drafts(date(2026, 3, 17)) == 1
    assert services.mark_overdue_drafts(date(2026, 3, 17)) == 0
    data = replace(services.draft_input(draft), report_type=1, brought_by=2)
    with django_capture_on_commit_callbacks(execute=True):
        report = services.register_from_case_report(staffed["psychiatrist_a"], data, draft=draft)
    assert report.pk == draft.pk and report.status == CaseReportStatus.ENTERED and report.entered_on == TODAY
    assert report.patient is not None and report.patient.source == RegistrationSource.CASE_REPORT
    assert report.patient.person_id == draft.person_id and report.late
    with pytest.raises(ValidationError) as exc:  # entered once
        services.register_from_case_report(staffed["psychiatrist_a"], data, draft=draft)
    assert set(exc.value.message_dict) == {"status"}
    assert CaseReport.objects.count() == Patient.objects.count() == 1


@pytest.mark.django_db
def test_a_confirmed_suspected_case_opens_the_hospital_card(staffed: dict[str, Any], towns: list[Region],
                                                            orgs: dict[str, Any], today: date) -> None:
    case = services.report_suspected_case(staffed["community_doctor_a"], SuspectedCaseInput(
        person=person_input(towns[0]), found_by="village_committee", discovered_on=date(2026, 2, 20)))
    services.refer_suspected_case(staffed["community_doctor_a"], case, orgs["hospital"].pk, date(2026, 2, 23))
    patient = services.confirm_suspected_case(staffed["psychiatrist_a"], case,
                                              DiagnosisInput("F20", "F20.0", "", orgs["hospital"].pk, date(2026, 3, 2)))
    draft = CaseReport.objects.get()
    assert (draft.status, draft.patient, draft.reporting_unit, draft.diagnosed_on) == (
        CaseReportStatus.DRAFT, patient, orgs["hospital"], date(2026, 3, 2))
    assert draft.report_deadline == date(2026, 3, 16) and not draft.late
    report = services.register_from_case_report(
        staffed["psychiatrist_a"], replace(services.draft_input(draft), report_type=1, brought_by=1), draft=draft)
    # No second registration: the card joins the patient registered at confirmation.
    assert report.patient == patient and Patient.objects.count() == 1 and not report.late


@pytest.mark.django_db
def test_pending_scope_hospital_sees_its_own_county_its_county(
        staffed: dict[str, Any], towns: list[Region], orgs: dict[str, Any], today: date) -> None:
    from tests.patients.factories import hospital_of

    other = hospital_of(Region.objects.get(code=towns[1].county_code))
    own = services.save_case_report_draft(staffed["psychiatrist_a"], case_report_input(towns[0], orgs["hospital"]))
    # The county-A hospital's draft for a patient living in county B.
    away = services.save_case_report_draft(staffed["psychiatrist_a"], case_report_input(towns[1], orgs["hospital"]))
    foreign = services.save_case_report_draft(staffed["mhc_staff_b"], case_report_input(towns[1], other))

    def seen(user: Any) -> set[int]:
        return set(services.pending_case_reports(user).values_list("pk", flat=True))

    assert seen(staffed["psychiatrist_a"]) == {own.pk, away.pk}
    assert seen(staffed["mhc_staff_a"]) == {own.pk}
    assert seen(staffed["mhc_staff_b"]) == {away.pk, foreign.pk}
    assert seen(staffed["community_doctor_a"]) == set()  # no view_casereport
    assert seen(staffed["police_a"]) == set()


# --- Pages ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_save_a_draft_list_it_and_enter_it(staffed: dict[str, Any], towns: list[Region],
                                                 orgs: dict[str, Any], today: date) -> None:
    client = verified_client(staffed["psychiatrist_a"])
    person = person_input(towns[0])
    post = {"form_key": "k1", "name": person.name, "id_type": "resident_id", "id_number": person.id_number,
            "sex": "M", "region_code": towns[0].code, "diagnosis": "F20", "icd10_code": "F20.0",
            "diagnosing_hospital": orgs["hospital"].pk, "diagnosed_on": "2026-03-02", "danger_level": "0",
            "entry": "online", "save_draft": "1"}
    response = client.post(reverse("patients:case_report_create"), post)
    assert response.status_code == 302 and response["Location"].endswith("?pending=1")
    draft = CaseReport.objects.get(status=CaseReportStatus.DRAFT)
    listed = client.get(reverse("patients:case_report_list") + "?pending=1")
    assert listed.status_code == 200 and reverse("patients:case_report_enter", args=[draft.pk]) in listed.text
    assert client.get(reverse("patients:case_report_list")).context["rows"] == []  # the entered tab
    page = reverse("patients:case_report_enter", args=[draft.pk])
    assert client.get(page).status_code == 200
    missing = client.post(page, {"form_key": "k2", "danger_level": "0", "entry": "online"})
    assert missing.status_code == 400 and {"report_type", "brought_by"} <= set(missing.context["form"].errors)
    done = client.post(page, {"form_key": "k3", "report_type": "1", "brought_by": "2", "danger_level": "0",
                              "entry": "online"})
    assert done.status_code == 302
    draft.refresh_from_db()
    assert draft.status == CaseReportStatus.ENTERED and draft.patient is not None
    assert client.get(page).status_code == 404  # entered: no longer a draft


@pytest.mark.django_db
def test_enter_page_scope(staffed: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                          today: date) -> None:
    draft = services.save_case_report_draft(staffed["psychiatrist_a"], case_report_input(towns[0], orgs["hospital"]))
    page = reverse("patients:case_report_enter", args=[draft.pk])
    for user, status in (("mhc_staff_a", 200), ("mhc_staff_b", 404), ("psychiatrist_b", 404),
                         ("community_doctor_a", 403), ("regulator", 403)):
        assert verified_client(staffed[user]).get(page).status_code == status, user


# --- API --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_draft_pending_list_and_enter(staffed: dict[str, Any], towns: list[Region], orgs: dict[str, Any],
                                          today: date) -> None:
    client = verified_client(staffed["psychiatrist_a"])
    person = person_input(towns[0])
    body = {"name": person.name, "id_number": person.id_number, "region_code": towns[0].code, "diagnosis": "F20",
            "icd10_code": "F20.0", "diagnosing_hospital": orgs["hospital"].pk, "diagnosed_on": "2026-02-13"}
    made = client.post(reverse("api-1:patients_case_report_draft_create"), body, content_type="application/json",
                       headers={"Idempotency-Key": "d-1"})
    assert made.status_code == 201, made.content
    draft = made.json()
    # Diagnosed Fri 13 Feb 2026, due Thu 5 Mar across the Spring Festival; today (10 Mar) it is already late.
    assert (draft["status"], draft["entered_on"], draft["report_deadline"], draft["late"]) == (
        "draft", None, "2026-03-05", True)
    listed = client.get(reverse("api-1:patients_case_report_list") + "?pending=true").json()
    assert [r["id"] for r in listed["results"]] == [draft["id"]]
    assert client.get(reverse("api-1:patients_case_report_list")).json()["count"] == 0  # nothing entered yet
    enter = reverse("api-1:patients_case_report_enter", kwargs={"report_id": draft["id"]})
    empty = client.post(enter, {}, content_type="application/json", headers={"Idempotency-Key": "e-0"})
    assert empty.status_code == 422
    assert {d["field"] for d in empty.json()["detail"]} == {"report_type", "brought_by"}
    done = client.post(enter, {"report_type": 1, "brought_by": 2}, content_type="application/json",
                       headers={"Idempotency-Key": "e-1"})
    assert done.status_code == 200, done.content
    assert (done.json()["status"], done.json()["late"], done.json()["entered_on"]) == ("entered", True, "2026-03-10")
    assert done.json()["register_number"] and Patient.objects.count() == 1
    outsider = verified_client(staffed["mhc_staff_b"])
    assert outsider.post(enter, {"report_type": 1, "brought_by": 2}, content_type="application/json",
                         headers={"Idempotency-Key": "e-2"}).status_code == 404
