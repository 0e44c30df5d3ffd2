"""The daily job on case reports not yet entered: flagged past the working-day deadline, once.

Deadlines from 《严重精神障碍发病报告管理办法（试行）》(2013; DOMAIN.md §5) on the official calendar:
10 working days from the diagnosis; a written card, 5 working days from the county centre's receipt.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.patients.conftest import case_report_input
from tests.patients.factories import clinic_of, county_centre_of, hospital_of
from xinqiao.core.models import Region
from xinqiao.core.models.notification import Notification
from xinqiao.indicators import periods, quality
from xinqiao.patients import services
from xinqiao.patients.models import CaseReport
from xinqiao.worklists import flagging

pytestmark = pytest.mark.django_db

#: Drafts are saved on Tue 29 Sep 2026, just before 国庆 (1–7 Oct; 10 Oct a working day).
SAVED_ON = date(2026, 9, 29)


@pytest.fixture
def setting(cast: dict[str, Any], towns: list[Region], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(services, "_today", lambda: SAVED_ON)
    county_a = Region.objects.get(code=towns[0].county_code)
    hospital, centre = hospital_of(county_a), county_centre_of(towns[0])
    clinic_of(towns[0])  # the township's health centre, which manages a registered patient
    cast["psychiatrist_a"].organisation = hospital
    cast["psychiatrist_a"].save(update_fields=["organisation"])
    cast["mhc_staff_a"].organisation = centre
    cast["mhc_staff_a"].save(update_fields=["organisation"])
    return {"hospital": hospital, "centre": centre, "cast": cast, "towns": towns}


def _draft(setting: dict[str, Any], diagnosed_on: date, **kw: Any) -> CaseReport:
    user = kw.pop("user", setting["cast"]["psychiatrist_a"])
    return services.save_case_report_draft(user, case_report_input(
        setting["towns"][0], setting["hospital"], diagnosed_on=diagnosed_on, **kw))


def _sent(report: CaseReport) -> set[int]:
    return set(Notification.objects.filter(kind=flagging.KIND_PENDING, subject_id=str(report.pk))
               .values_list("recipient_organisation_id", flat=True))


def test_flagged_only_after_the_deadline_across_national_day(setting: dict[str, Any]) -> None:
    draft = _draft(setting, date(2026, 9, 29))  # due Mon 19 Oct
    assert draft.report_deadline == date(2026, 10, 19) and not draft.late
    assert flagging.flag_all(date(2026, 10, 19)).case_reports_pending == 0  # last day: not late yet
    result = flagging.flag_all(date(2026, 10, 20))
    assert result.case_reports_pending == 1
    draft.refresh_from_db()
    assert draft.late and draft.status == "draft"
    # The reporting hospital and the county centre, once each.
    assert _sent(draft) == {setting["hospital"].pk, setting["centre"].pk}
    note = Notification.objects.filter(kind=flagging.KIND_PENDING).first()
    assert note is not None and "2026-10-19" in note.body and note.link.endswith("?pending=1")
    assert "逾期未录入" in note.title  # written in the deployment's language (the job has no user)


def test_the_job_is_idempotent(setting: dict[str, Any]) -> None:
    _draft(setting, date(2026, 9, 29))
    first = flagging.flag_all(date(2026, 10, 21))
    again = flagging.flag_all(date(2026, 10, 21))
    later = flagging.flag_all(date(2026, 10, 30))
    assert (first.case_reports_pending, first.notices) == (1, 2)
    assert (again.case_reports_pending, again.notices) == (0, 0)
    assert (later.case_reports_pending, later.notices) == (0, 0)
    assert Notification.objects.filter(kind=flagging.KIND_PENDING).count() == 2


def test_written_card_received_gives_the_county_five_working_days(setting: dict[str, Any]) -> None:
    # Diagnosed Fri 25 Sep (the hospital's card due Thu 15 Oct); received by the county Tue 29 Sep and
    # recorded as a draft: entered by 30 Sep, 8, 9, Sat 10 (调休), Mon 12 Oct — 5 working days.
    card = _draft(setting, date(2026, 9, 25), entry="written", received_on=date(2026, 9, 29),
                  reporting_unit_id=setting["hospital"].pk, user=setting["cast"]["mhc_staff_a"])
    assert (card.report_deadline, card.entry_deadline) == (date(2026, 10, 15), date(2026, 10, 12))
    assert flagging.flag_all(date(2026, 10, 12)).case_reports_pending == 0
    assert flagging.flag_all(date(2026, 10, 13)).case_reports_pending == 1
    assert _sent(card) == {setting["hospital"].pk, setting["centre"].pk}
    # A card that arrived after the hospital's deadline is flagged at once, whatever the county does.
    late_card = _draft(setting, date(2026, 9, 10), entry="written", received_on=date(2026, 9, 29),
                       user=setting["cast"]["mhc_staff_a"])
    assert late_card.received_on is not None and late_card.report_deadline < late_card.received_on
    assert late_card.late
    assert flagging.flag_all(date(2026, 9, 29)).case_reports_pending == 1


def test_entered_after_a_pending_notice_is_not_notified_again(setting: dict[str, Any],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    draft = _draft(setting, date(2026, 9, 29))
    flagging.flag_all(date(2026, 10, 20))
    monkeypatch.setattr(services, "_today", lambda: date(2026, 10, 21))
    report = services.register_from_case_report(
        setting["cast"]["psychiatrist_a"], replace(services.draft_input(draft), report_type=1, brought_by=2),
        draft=draft)
    assert report.late and report.status == "entered"
    assert flagging.flag_all(date(2026, 10, 22)).case_reports_late == 0
    assert not Notification.objects.filter(kind=flagging.KIND_CASE_REPORT).exists()


def test_quality_panel_counts_pending_late_reports(setting: dict[str, Any]) -> None:
    flagged = _draft(setting, date(2026, 9, 25))  # due 15 Oct
    on_time = _draft(setting, date(2026, 9, 29))  # due 19 Oct
    flagging.flag_all(date(2026, 10, 16))
    county = Region.objects.get(code=setting["towns"][0].county_code)
    period = periods.parse("2026")
    panel = quality.panel(county, period, today=date(2026, 10, 16))
    assert panel.total.counts["pending_case_report"] == 1 and panel.total.counts["late_case_report"] == 0
    assert panel.total.case_reports == 0  # drafts are not entered reports
    members = quality.members(setting["cast"]["mhc_staff_a"], "pending_case_report", county, period)
    assert flagged.pk in set(members.values_list("pk", flat=True)) and on_time.pk not in set(
        members.values_list("pk", flat=True))


def test_county_board_shows_the_late_pending_reports(setting: dict[str, Any]) -> None:
    from django.urls import reverse

    from tests.helpers import verified_client

    _draft(setting, date(2026, 9, 25))  # due 15 Oct
    _draft(setting, date(2026, 9, 29))  # due 19 Oct
    flagging.flag_all(date(2026, 10, 16))
    cast = setting["cast"]
    page = verified_client(cast["mhc_staff_a"]).get(reverse("worklists:overview"))
    assert page.status_code == 200
    assert page.context["pending_reports"].total == 2 and page.context["pending_reports"].late == 1
    assert 'id="pending-case-reports"' in page.text
    other = verified_client(cast["mhc_staff_b"]).get(reverse("worklists:overview"))
    assert other.context["pending_reports"].total == 0  # county B sees none of county A's
    doctor = verified_client(cast["community_doctor_a"]).get(reverse("worklists:overview"))
    assert doctor.context["pending_reports"] is None and 'id="pending-case-reports"' not in doctor.text
