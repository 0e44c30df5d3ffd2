"""The data-quality panel: each rule on a hand-built positive and negative case, counts per sub-region,
the drill-down lists (scope, masks, audit) and the routes' access rules.

Township A lies in county A (天河区 440106), township B in county B (白云区 440111), both in 广州市.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from tests.factories import PersonFactory, UserFactory
from tests.helpers import verified_client
from tests.patients.factories import PatientFactory, hospital_of
from xinqiao.core.models import AuditEvent, Region
from xinqiao.followups.codes import Outcome
from xinqiao.followups.models import FollowUp
from xinqiao.indicators import periods, quality
from xinqiao.patients.codes import PatientStatus
from xinqiao.patients.models import CaseReport, Patient, StatusChange

TODAY = date(2026, 9, 15)
YEAR = periods.parse("2026")
COUNTY_A, COUNTY_B, CITY = "440106", "440111", "4401"


@pytest.fixture(autouse=True)
def _chinese() -> None:
    translation.activate("zh-hans")


def flagged(code: str, region_code: str = CITY) -> set[int]:
    """Ids of the patients (or case reports) rule ``code`` flags in the region, unscoped."""
    region = Region.objects.get(code=region_code)
    rule = quality.get(code)
    if rule.subject == "case_report":
        return set(CaseReport.objects.filter(**{region.scope_column: region.code})
                   .filter(quality.case_report_condition(YEAR)).values_list("pk", flat=True))
    return set(Patient.objects.filter(**{region.scope_column: region.code})
               .filter(quality.patient_condition(code, TODAY)).values_list("pk", flat=True))


def followup(patient: Patient, day: date, outcome: str = Outcome.VISITED, **extra: Any) -> FollowUp:
    return FollowUp.objects.create(patient=patient, region_id=patient.region_id, followup_date=day, outcome=outcome,
                                   method=2, **extra)


def died(patient: Patient, day: date) -> StatusChange:
    return StatusChange.objects.create(patient=patient, region_id=patient.region_id, from_status=patient.status,
                                       to_status=PatientStatus.DEAD, changed_on=day, death_date=day)


def case_report(town: Region, *, late: bool, entered: date) -> CaseReport:
    hospital = hospital_of(Region.objects.get(code=town.county_code))
    return CaseReport.objects.create(
        person=PersonFactory(region=town), region=town, report_type=1, diagnosis="F20", icd10_code="F20.0",
        diagnosing_hospital=hospital, diagnosed_on=entered - timedelta(days=20), brought_by=2,
        reporting_unit=hospital, entered_on=entered, report_deadline=entered - timedelta(days=(6 if late else -6)),
        late=late)


def user_with(*perms: str, region: str = COUNTY_A, roles: tuple[str, ...] = ()) -> Any:
    """A user in ``region`` with ``roles`` (their masks and permissions) and extra permissions."""
    user = UserFactory(region=Region.objects.get(code=region), roles=list(roles))
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return user


# --------------------------------------------------------------------------------------------------
# The rules file
# --------------------------------------------------------------------------------------------------


def test_rules_file_names_every_rule_with_its_reason_and_source() -> None:
    rules = quality.rules()
    assert {r.kind for r in rules} == set(quality.KINDS)
    for rule in rules:
        assert rule.zh and rule.en and rule.why_zh and rule.why_en and rule.source
    assert quality.get("age_over_limit").params["max_age_years"] == 110
    with pytest.raises(quality.UnknownRuleError):
        quality.get("nonsense")


# --------------------------------------------------------------------------------------------------
# One positive and one negative case per rule
# --------------------------------------------------------------------------------------------------


def test_late_case_report(towns: list[Region]) -> None:
    late = case_report(towns[0], late=True, entered=date(2026, 3, 2))
    case_report(towns[0], late=False, entered=date(2026, 3, 2))
    case_report(towns[0], late=True, entered=date(2025, 12, 30))  # late, but entered in another period
    assert flagged("late_case_report") == {late.pk}


def test_overdue_followup_is_the_worklist_rule(towns: list[Region]) -> None:
    overdue = PatientFactory(region=towns[0], next_followup_due=TODAY - timedelta(days=1))
    PatientFactory(region=towns[0], next_followup_due=TODAY)
    PatientFactory(region=towns[0], next_followup_due=TODAY - timedelta(days=30), status=PatientStatus.DEAD)
    assert flagged("overdue_followup") == {overdue.pk}


def test_duplicate_id_number_across_regions(towns: list[Region]) -> None:
    suspect = PatientFactory(region=towns[0])
    PersonFactory(region=Region.objects.get(code="110101001"), id_number=suspect.person.id_number)  # in Beijing
    PatientFactory(region=towns[0])
    PatientFactory(region=towns[0], person=PersonFactory(region=towns[0], id_number=""))  # no number: never a match
    PersonFactory(region=towns[0], id_number="")
    assert flagged("duplicate_id_number") == {suspect.pk}


def test_followup_before_registration(towns: list[Region]) -> None:
    early = PatientFactory(region=towns[0], registered_on=date(2026, 1, 5))
    followup(early, date(2026, 1, 4))
    fine = PatientFactory(region=towns[0], registered_on=date(2026, 1, 5))
    followup(fine, date(2026, 1, 5))
    assert flagged("followup_before_registration") == {early.pk}


def test_followup_in_future(towns: list[Region]) -> None:
    ahead = PatientFactory(region=towns[0])
    followup(ahead, TODAY + timedelta(days=1))
    fine = PatientFactory(region=towns[0])
    followup(fine, TODAY)
    assert flagged("followup_in_future") == {ahead.pk}


def test_followup_after_death(towns: list[Region]) -> None:
    visited_after = PatientFactory(region=towns[0])
    died(visited_after, date(2026, 3, 1))
    followup(visited_after, date(2026, 3, 10))
    reported_dead = PatientFactory(region=towns[0])  # death known from a follow-up reporting it
    followup(reported_dead, date(2026, 4, 2), Outcome.DEAD, death_date=date(2026, 3, 20))
    followup(reported_dead, date(2026, 4, 1))
    attempt_after = PatientFactory(region=towns[0])  # a failed attempt after death is plausible
    died(attempt_after, date(2026, 3, 1))
    followup(attempt_after, date(2026, 3, 10), Outcome.NOT_REACHED)
    before = PatientFactory(region=towns[0])
    followup(before, date(2026, 2, 20))
    died(before, date(2026, 3, 1))
    assert flagged("followup_after_death") == {visited_after.pk, reported_dead.pk}


def test_age_over_limit(towns: list[Region]) -> None:
    old = PatientFactory(region=towns[0], person=PersonFactory(region=towns[0], birth_date=date(1916, 9, 14)))
    PatientFactory(region=towns[0], person=PersonFactory(region=towns[0], birth_date=date(1916, 9, 15)))  # 110 today
    PatientFactory(region=towns[0], person=PersonFactory(region=towns[0], birth_date=None))
    assert flagged("age_over_limit") == {old.pk}


def test_born_in_future(towns: list[Region]) -> None:
    unborn = PatientFactory(region=towns[0], person=PersonFactory(region=towns[0], birth_date=TODAY + timedelta(days=1)))
    PatientFactory(region=towns[0], person=PersonFactory(region=towns[0], birth_date=TODAY))
    assert flagged("born_in_future") == {unborn.pk}


def test_death_before_birth(towns: list[Region]) -> None:
    wrong = PatientFactory(region=towns[0], person=PersonFactory(region=towns[0], birth_date=date(1990, 5, 1)))
    died(wrong, date(1990, 4, 30))
    on_followup = PatientFactory(region=towns[0], person=PersonFactory(region=towns[0], birth_date=date(1990, 5, 1)))
    followup(on_followup, date(2026, 1, 2), Outcome.DEAD, death_date=date(1989, 1, 1))
    fine = PatientFactory(region=towns[0], person=PersonFactory(region=towns[0], birth_date=date(1990, 5, 1)))
    died(fine, date(2026, 1, 1))
    unknown_birth = PatientFactory(region=towns[0], person=PersonFactory(region=towns[0], birth_date=None))
    died(unknown_birth, date(2026, 1, 1))
    assert flagged("death_before_birth") == {wrong.pk, on_followup.pk}


def test_registered_before_diagnosis(towns: list[Region]) -> None:
    early = PatientFactory(region=towns[0], registered_on=date(2026, 1, 5), diagnosed_on=date(2026, 1, 6))
    PatientFactory(region=towns[0], registered_on=date(2026, 1, 6), diagnosed_on=date(2026, 1, 6))
    PatientFactory(region=towns[0], registered_on=date(2026, 1, 6), diagnosed_on=None)
    assert flagged("registered_before_diagnosis") == {early.pk}


# --------------------------------------------------------------------------------------------------
# Counts per sub-region
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def mixed(towns: list[Region]) -> dict[str, Any]:
    """Township A: 2 overdue, 1 with a future follow-up, 1 late of 2 case reports; township B: 1 overdue."""
    a, b = towns
    out = {"a_overdue": [PatientFactory(region=a, next_followup_due=TODAY - timedelta(days=d)) for d in (1, 40)],
           "b_overdue": PatientFactory(region=b, next_followup_due=TODAY - timedelta(days=3))}
    future = PatientFactory(region=a)
    followup(future, TODAY + timedelta(days=2))
    out["late_report"] = case_report(a, late=True, entered=date(2026, 5, 6))
    case_report(a, late=False, entered=date(2026, 5, 6))
    return out


def test_panel_counts_per_sub_region(mixed: dict[str, Any], towns: list[Region]) -> None:
    city = quality.panel(Region.objects.get(code=CITY), YEAR, today=TODAY)
    rows = {row.code: row for row in city.rows}
    assert set(rows) == set(Region.objects.filter(parent_id=CITY).values_list("code", flat=True))
    assert rows[COUNTY_A].counts["overdue_followup"] == 2 and rows[COUNTY_B].counts["overdue_followup"] == 1
    assert rows[COUNTY_A].counts["followup_in_future"] == 1
    assert (rows[COUNTY_A].counts["late_case_report"], rows[COUNTY_A].case_reports) == (1, 2)
    assert rows[COUNTY_A].late_share == 50.0
    assert rows["440103"].counts == dict.fromkeys(rows["440103"].counts, 0)
    assert city.total.counts["overdue_followup"] == 3 and city.total.case_reports == 2
    county = quality.panel(Region.objects.get(code=COUNTY_A), YEAR, today=TODAY)
    town_a = next(r for r in county.rows if r.code == towns[0].code)
    assert town_a.counts["overdue_followup"] == 2 and county.total.counts["overdue_followup"] == 2
    township = quality.panel(towns[1], YEAR, today=TODAY)
    assert [(r.code, r.counts["overdue_followup"]) for r in township.rows] == [(towns[1].code, 1)]


# --------------------------------------------------------------------------------------------------
# Drill-down: scoped, masked, audited
# --------------------------------------------------------------------------------------------------


def test_list_is_scoped_masked_and_audited(mixed: dict[str, Any], towns: list[Region]) -> None:
    user = user_with("indicators.view_data_quality", roles=("regulator",))
    result = quality.view_list(user, "overdue_followup", Region.objects.get(code=COUNTY_A), YEAR, today=TODAY)
    assert {row.record.pk for row in result.rows} == {p.pk for p in mixed["a_overdue"]}
    names = {row.person.get("name") for row in result.rows}
    assert all(name and "*" in name for name in names)  # masked for a viewer without unmask
    event = AuditEvent.objects.filter(action="list").latest("id")
    assert event.detail["quality_rule"] == "overdue_followup"
    assert sorted(event.detail["ids"]) == sorted(str(p.pk) for p in mixed["a_overdue"])
    # Without the patient view permission, restrict() yields nothing.
    blind = user_with("indicators.view_data_quality")
    assert quality.view_list(blind, "overdue_followup", Region.objects.get(code=COUNTY_A), YEAR,
                             today=TODAY).rows == []


def test_routes(mixed: dict[str, Any], towns: list[Region]) -> None:
    viewer = verified_client(user_with("indicators.view_data_quality", roles=("regulator",)))
    panel_url = reverse("indicators:quality")
    response = viewer.get(panel_url)
    assert response.status_code == 200 and response.context["panel"].region.code == COUNTY_A
    assert "随访逾期" in response.content.decode()
    assert viewer.get(panel_url, {"region": towns[0].code}).status_code == 200
    assert viewer.get(panel_url, {"region": COUNTY_B}).status_code == 404
    assert viewer.get(panel_url, {"region": CITY}).status_code == 404
    assert viewer.get(panel_url, {"period": "2026-13"}).status_code == 400
    list_url = reverse("indicators:quality_list", kwargs={"rule": "late_case_report"})
    response = viewer.get(list_url, {"period": "2026"})
    assert response.status_code == 200
    assert [row["item"].record.pk for row in response.context["rows"]] == [mixed["late_report"].pk]
    assert viewer.get(list_url, {"region": COUNTY_B}).status_code == 404
    assert viewer.get(reverse("indicators:quality_list", kwargs={"rule": "nonsense"})).status_code == 404
    outsider = verified_client(user_with(roles=("psychiatrist",)))  # sees patients, not the panel
    assert outsider.get(panel_url).status_code == 403
    assert outsider.get(list_url).status_code == 403
