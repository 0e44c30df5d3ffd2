"""Coverage figures per region: each computed set-based (a fixed number of queries), against a network
built to known numbers in 天河区 (440106)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.helpers import login_verified
from tests.registry.factories import TIANHE, make_institution, make_practitioner
from xinqiao.core.models import Organisation, OrgType, Region, RegionKind, RegionLevel
from xinqiao.registry import coverage
from xinqiao.registry.models import Credential, InstitutionStatus, RegionStatistic
from xinqiao.registry.services import set_institution_status

pytestmark = pytest.mark.django_db


def plain(**kw: Any) -> dict[str, Any]:
    return {"business_licence_number": "", "licensing_status": "", **kw}


@pytest.fixture
def network(db: Any) -> dict[str, Any]:
    towns = list(Region.objects.filter(parent_id=TIANHE, level=RegionLevel.TOWNSHIP, kind=RegionKind.TOWNSHIP)
                 .order_by("code")[:3])
    t1, t2, t3 = towns
    # Management groups: the caregroups app in t1 (active) and t2 (inactive), the registry in t3.
    from xinqiao.caregroups.models import ManagementGroup

    ManagementGroup.objects.create(kind="comprehensive", name="综合管理小组1", established_on=date(2020, 1, 1), region=t1)
    ManagementGroup.objects.create(kind="comprehensive", name="综合管理小组2", established_on=date(2020, 1, 1), region=t2,
                                   active=False)
    make_institution(None, name="第三街道综合管理小组", kind="management_group", region_code=t3.code, **plain())
    # Counselling rooms: two villages of t1 (one with two rooms), a suspended one not counted.
    for n, village in enumerate(("001", "002", "001")):
        make_institution(None, name=f"心理咨询室{n}", kind="counselling_room", region_code=t1.code,
                         village_code=f"{t1.code}{village}", **plain())
    suspended = make_institution(None, name="暂停的咨询室", kind="counselling_room", region_code=t1.code,
                                 village_code=f"{t1.code}003", **plain())
    set_institution_status(suspended, InstitutionStatus.SUSPENDED, actor=None, source="sanction")
    for town, villages in ((t1, 10), (t2, 5)):
        RegionStatistic.objects.create(region=town, year=2020, measure="villages", value=villages)
    RegionStatistic.objects.create(region_id=TIANHE, year=2020, measure="population", value=2_000_000)
    RegionStatistic.objects.create(region_id=TIANHE, year=2020, measure="villages", value=40)
    # Schools: three, one with a room under it, one registered as the room itself.
    schools = [Organisation.objects.create(name=f"测试学校{i}", org_type=OrgType.SCHOOL, region_id=TIANHE)
               for i in range(3)]
    make_institution(None, parent=schools[0], name="测试学校0心理辅导室", kind="school_room", students=900,
                     counsellors=1, **plain())
    make_institution(None, organisation=schools[1], name=schools[1].name, kind="school_room", students=900,
                     counsellors=1, **plain())
    # Universities: one meets 1 per 4,000 students, one does not.
    make_institution(None, name="大学甲心理中心", kind="university_centre", students=8000, counsellors=2, **plain())
    make_institution(None, name="大学乙心理中心", kind="university_centre", students=10000, counsellors=2, **plain())
    # Psychiatrists: three with a valid licence; one expired, one revoked, a nurse.
    hospital = make_institution(None, name="测试医院", kind="psychiatric_hospital", **plain())
    for i in range(3):
        make_practitioner(hospital, name=f"医生{i}", credential=("physician_licence", f"P{i}"))
    make_practitioner(hospital, name="过期", credential=("physician_licence", "PX"),
                      expiry_date=timezone.localdate() - timedelta(days=1))
    revoked = make_practitioner(hospital, name="撤销", credential=("physician_licence", "PR"))
    Credential.objects.filter(practitioner=revoked).update(revoked_at=timezone.now())
    make_practitioner(hospital, name="护士", profession="nurse", credential=("nurse_licence", "N1"))
    make_institution(None, name="天河测试热线", kind="hotline", services=["hotline"], **plain())
    make_institution(None, name="广州市危机干预队", kind="crisis_team", region_code="4401", **plain())
    return {"towns": towns}


def test_county_figures(network: dict[str, Any]) -> None:
    report = coverage.coverage(TIANHE, year=2026)
    total = report.total
    townships = Region.objects.filter(parent_id=TIANHE, kind=RegionKind.TOWNSHIP).count()
    assert (total.management_groups.numerator, total.management_groups.denominator) == (2, townships)
    assert (total.counselling_rooms.numerator, total.counselling_rooms.denominator) == (2, 40)
    assert total.counselling_rooms.percent == 5.0 and total.counselling_rooms.meets is False
    assert (total.school_rooms.numerator, total.school_rooms.denominator) == (2, 3)
    assert (total.universities, total.students, total.counsellors, total.universities_meeting) == (2, 18000, 4, 1)
    assert total.students_per_counsellor == 4500.0
    assert (total.psychiatrists, total.population) == (3, 2_000_000)
    assert total.psychiatrists_per_100k == 0.15 and total.psychiatrist_target == 3.8 and not total.psychiatrists_meet
    assert total.hotlines == 1 and total.crisis_teams == 0  # the city's team is not the county's
    assert report.village_year == report.population_year == 2020
    t1, t2, t3 = network["towns"]
    rows = {r.code: r for r in report.rows}
    assert rows[t1.code].management_groups.numerator == 1 and rows[t2.code].management_groups.numerator == 0
    assert rows[t3.code].management_groups.numerator == 1
    assert (rows[t1.code].counselling_rooms.numerator, rows[t1.code].counselling_rooms.denominator) == (2, 10)
    assert rows[t2.code].counselling_rooms.percent == 0.0
    assert rows[t3.code].counselling_rooms.denominator is None and rows[t3.code].counselling_rooms.percent is None


def test_city_and_province_figures(network: dict[str, Any]) -> None:
    city = coverage.coverage("4401", year=2026)
    tianhe = next(r for r in city.rows if r.code == TIANHE)
    assert tianhe.psychiatrists == 3 and tianhe.psychiatrists_per_100k == 0.15
    assert city.total.crisis_teams == 1 and city.cities_with_crisis_team is not None
    assert city.cities_with_crisis_team.numerator == 1
    assert city.total.population is None  # no city figure loaded: the sum of the counties given
    province = coverage.coverage("44", year=2026)
    assert province.cities_with_crisis_team is not None and province.cities_with_crisis_team.numerator == 1
    assert province.cities_with_crisis_team.denominator == Region.objects.filter(
        parent_id="44", level=RegionLevel.PREFECTURE, kind=RegionKind.PREFECTURE).count()
    assert province.province_hotlines == [{"province_code": "44", "province_name": "广东省", "hotlines": 1, "meets": True}]
    with_population = coverage.coverage("4401", year=2026, populations={"4401": 1_000_000, TIANHE: 100_000})
    assert with_population.total.population == 1_000_000
    assert next(r for r in with_population.rows if r.code == TIANHE).psychiatrists_per_100k == 3.0


def test_a_fixed_number_of_queries(network: dict[str, Any]) -> None:
    with CaptureQueriesContext(connection) as before:
        coverage.coverage(TIANHE, year=2026)
    town = network["towns"][1]
    for i in range(10):
        make_institution(None, name=f"新增咨询室{i}", kind="counselling_room", region_code=town.code,
                         village_code=f"{town.code}{i + 100:03d}", **plain())
    with CaptureQueriesContext(connection) as after:
        coverage.coverage(TIANHE, year=2026)
    assert len(before) == len(after) < 40


def test_the_page_and_the_api(network: dict[str, Any], cast: dict[str, Any], client: Client) -> None:
    login_verified(client, cast["mhc_staff_a"])
    page = client.get(reverse("registry:coverage"))
    assert page.status_code == 200 and page.context["report"].region_code == TIANHE
    assert client.get(reverse("registry:coverage"), {"region": "440111"}).status_code == 404  # not theirs
    api = client.get(reverse("api-1:registry_coverage")).json()
    assert api["total"]["psychiatrists"] == 3 and api["total"]["school_rooms"]["denominator"] == 3
    login_verified(client, cast["regulator"])
    assert client.get(reverse("registry:coverage"), {"region": TIANHE}).status_code == 200
    assert client.get(reverse("api-1:registry_coverage"), {"region": "11"}).status_code == 404
