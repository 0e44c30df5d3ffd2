"""The periodic job: who is told about what is late, once, in a fixed number of queries."""

from __future__ import annotations

import json
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import OrganisationFactory, UserFactory
from tests.worklists.factories import PatientFactory, clinic, county_centre
from xinqiao.core.models import OrgType, Region
from xinqiao.core.models.notification import Notification
from xinqiao.patients.models import Patient
from xinqiao.worklists import flagging
from xinqiao.worklists.tasks import flag_overdue

TODAY = date(2025, 3, 10)
pytestmark = pytest.mark.django_db


@pytest.fixture
def centres(towns: list) -> dict[str, Any]:
    """The county centre of county A, and of county B."""
    return {t.county_code: county_centre(Region.objects.get(code=t.county_code)) for t in towns}


def notices(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("id"))


def test_overdue_follow_up_tells_the_doctor_and_the_county_centre_once(centres: dict, towns: list) -> None:
    doctor = UserFactory(region=towns[0])
    with_doctor = PatientFactory(next_followup_due=TODAY - timedelta(days=4), responsible_doctor=doctor)
    without = PatientFactory(next_followup_due=TODAY - timedelta(days=1))
    PatientFactory(next_followup_due=TODAY)  # due today: not overdue yet
    PatientFactory(next_followup_due=TODAY - timedelta(days=9), status="lost")  # off management
    PatientFactory(next_followup_due=TODAY - timedelta(days=9), status="in_hospital")
    b = PatientFactory(region=towns[1], next_followup_due=TODAY - timedelta(days=2))

    result = flagging.flag_all(TODAY)
    assert (result.followups_overdue, result.first_visits_late, result.case_reports_late) == (3, 0, 0)
    sent = notices(flagging.KIND_OVERDUE)
    personal = {n.subject_id: n for n in sent if n.subject_type == "patients.patient"}
    assert set(personal) == {str(with_doctor.pk), str(without.pk), str(b.pk)}
    assert personal[str(with_doctor.pk)].recipient_id == doctor.pk
    assert personal[str(with_doctor.pk)].recipient_organisation_id is None
    assert personal[str(without.pk)].recipient_id is None
    assert personal[str(without.pk)].recipient_organisation_id == without.managing_organisation_id
    note = personal[str(with_doctor.pk)]
    assert with_doctor.register_number in note.title and "逾期" in note.title
    assert with_doctor.person.name not in note.title + note.body
    assert "4 天" in note.body
    digests = {n.recipient_organisation_id: n for n in sent if n.subject_type == "core.region"}
    a_centre, b_centre = centres[towns[0].county_code], centres[towns[1].county_code]
    assert set(digests) == {a_centre.pk, b_centre.pk}
    assert "2" in digests[a_centre.pk].title and "1" in digests[b_centre.pk].title
    assert digests[a_centre.pk].link == "/worklists/overdue/"

    again = flagging.flag_all(TODAY)
    assert (again.followups_overdue, again.notices) == (0, 0)
    assert len(notices(flagging.KIND_OVERDUE)) == len(sent)


def test_a_new_missed_date_is_a_new_notice(centres: dict) -> None:
    p = PatientFactory(next_followup_due=TODAY - timedelta(days=2))
    flagging.flag_all(TODAY)
    Patient.objects.filter(pk=p.pk).update(next_followup_due=TODAY + timedelta(days=14))  # followed up
    assert flagging.flag_all(TODAY + timedelta(days=10)).followups_overdue == 0
    later = TODAY + timedelta(days=20)
    assert flagging.flag_all(later).followups_overdue == 1
    keys = sorted(n.dedupe_key for n in notices(flagging.KIND_OVERDUE) if n.subject_type == "patients.patient")
    assert keys == [f"followup_overdue:{p.pk}:{(TODAY - timedelta(days=2)).isoformat()}",
                    f"followup_overdue:{p.pk}:{(TODAY + timedelta(days=14)).isoformat()}"]


def test_first_visit_late_after_14_days(centres: dict) -> None:
    on_time = PatientFactory(awaiting_first_visit_since=TODAY - timedelta(days=14))
    late = PatientFactory(awaiting_first_visit_since=TODAY - timedelta(days=15))
    result = flagging.flag_all(TODAY)
    assert result.first_visits_late == 1
    personal = [n for n in notices(flagging.KIND_FIRST_VISIT) if n.subject_type == "patients.patient"]
    assert [n.subject_id for n in personal] == [str(late.pk)]
    assert personal[0].recipient_organisation_id == late.managing_organisation_id
    assert "14" in personal[0].body
    assert on_time.pk not in {int(n.subject_id) for n in personal}
    assert flagging.flag_all(TODAY).notices == 0


def _case_report(patient: Patient, *, late: bool, entered_on: date) -> Any:
    from xinqiao.patients.models import CaseReport

    hospital = OrganisationFactory(name=f"精神专科医院（测试）{patient.pk}", org_type=OrgType.PSYCHIATRIC_HOSPITAL,
                                   region=Region.objects.get(code="4401"))
    return CaseReport.objects.create(
        person=patient.person, patient=patient, region=patient.region, report_type=1, diagnosis="F20",
        icd10_code="F20.0", diagnosing_hospital=hospital, diagnosed_on=entered_on - timedelta(days=30),
        brought_by=2, reporting_unit=hospital, entered_on=entered_on,
        report_deadline=entered_on - timedelta(days=10), late=late)


def test_late_case_report_tells_the_reporting_unit_and_the_county_centre(centres: dict, towns: list) -> None:
    late = _case_report(PatientFactory(), late=True, entered_on=TODAY - timedelta(days=2))
    _case_report(PatientFactory(), late=False, entered_on=TODAY - timedelta(days=2))
    _case_report(PatientFactory(), late=True, entered_on=TODAY - timedelta(days=400))  # history: not notified
    result = flagging.flag_all(TODAY)
    assert result.case_reports_late == 1
    sent = notices(flagging.KIND_CASE_REPORT)
    assert {n.recipient_organisation_id for n in sent} == {late.reporting_unit_id, centres[towns[0].county_code].pk}
    assert all(n.subject_id == str(late.pk) for n in sent)
    assert flagging.flag_all(TODAY).notices == 0


def test_query_count_does_not_grow_with_the_number_flagged(centres: dict) -> None:
    PatientFactory(next_followup_due=TODAY - timedelta(days=3))
    with CaptureQueriesContext(connection) as small:
        flagging.flag_all(TODAY)
    for i in range(40):
        PatientFactory(next_followup_due=TODAY - timedelta(days=3 + i),
                       awaiting_first_visit_since=TODAY - timedelta(days=20 + i))
    with CaptureQueriesContext(connection) as big:
        result = flagging.flag_all(TODAY)
    assert (result.followups_overdue, result.first_visits_late) == (40, 40)
    assert len(small.captured_queries) == len(big.captured_queries)
    # Four kinds: the pending case reports add one UPDATE and one SELECT, whatever their number.
    assert len(big.captured_queries) <= 10, [q["sql"][:80] for q in big.captured_queries]


def test_command_and_task(centres: dict) -> None:
    PatientFactory(next_followup_due=TODAY - timedelta(days=3))
    out = StringIO()
    call_command("flag_overdue", "--date", TODAY.isoformat(), stdout=out)
    printed = json.loads(out.getvalue())
    assert printed == {"date": TODAY.isoformat(), "followups_overdue": 1, "first_visits_late": 0,
                       "case_reports_late": 0, "case_reports_pending": 0, "notices": 2}
    # The task runs eagerly (as of today: the patient is overdue then too, and already notified).
    assert flag_overdue.delay().get()["followups_overdue"] == 0


def test_no_county_centre_means_only_the_clinic_is_told(towns: list) -> None:
    OrganisationFactory(name="停用的精神卫生中心", org_type=OrgType.MHC_COUNTY,
                        region=Region.objects.get(code=towns[0].county_code), is_active=False)
    p = PatientFactory(next_followup_due=TODAY - timedelta(days=3), managing_organisation=clinic(towns[0]))
    flagging.flag_all(TODAY)
    assert [(n.recipient_organisation_id, n.subject_id) for n in notices(flagging.KIND_OVERDUE)] == [
        (p.managing_organisation_id, str(p.pk))]
