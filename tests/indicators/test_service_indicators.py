"""Service-system indicators (service_sql.py): a hand-worked network in 天河区 with every number derived
by hand from the definitions, and a property test: for generated small networks the one-statement
SQL equals a plain Python count over the same generated facts."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.registry.factories import BAIYUN, CITY, TIANHE, make_institution, make_practitioner
from xinqiao.caregroups.models import ManagementGroup
from xinqiao.core.models import Organisation, OrgType, Region, RegionKind, RegionLevel
from xinqiao.indicators import engine, periods, populations, service_sql
from xinqiao.registry.models import Credential, InstitutionStatus, RegionStatistic
from xinqiao.registry.services import set_institution_status

pytestmark = pytest.mark.django_db

Q3 = periods.parse("2026Q3")  # 2026-07-01 … 2026-09-30
GUANGZHOU_TOWNSHIPS = 178  # kind township under 4401 in the 2023 code list (checked below)
GUANGDONG = {"prefectures": 21, "counties": 124, "townships": 1757}


def plain(**kw: Any) -> dict[str, Any]:
    return {"business_licence_number": "", "licensing_status": "", **kw}


def table(code: str, period: periods.Period = Q3) -> dict[str, tuple[int, int | None]]:
    return {region: (num, den) for _c, region, _lv, num, den in service_sql.compute(code, period)}


@pytest.fixture
def network(db: Any) -> dict[str, Any]:
    towns = list(Region.objects.filter(parent_id=TIANHE, kind=RegionKind.TOWNSHIP).order_by("code")[:4])
    t1, t2, t3, t4 = towns
    ManagementGroup.objects.create(kind="comprehensive", name="组1", established_on=date(2020, 1, 1), region=t1)
    ManagementGroup.objects.create(kind="comprehensive", name="组2", established_on=date(2020, 1, 1), region=t2,
                                   active=False)
    ManagementGroup.objects.create(kind="comprehensive", name="组4", established_on=date(2026, 10, 15), region=t4)
    make_institution(None, name="第三街道综合管理小组", kind="management_group", region_code=t3.code, **plain())
    for n, village in enumerate(("001", "002", "001")):
        make_institution(None, name=f"心理咨询室{n}", kind="counselling_room", region_code=t1.code,
                         village_code=f"{t1.code}{village}", **plain())
    suspended = make_institution(None, name="暂停的咨询室", kind="counselling_room", region_code=t1.code,
                                 village_code=f"{t1.code}003", **plain())
    set_institution_status(suspended, InstitutionStatus.SUSPENDED, actor=None, source="sanction")
    late = make_institution(None, name="十月的咨询室", kind="counselling_room", region_code=t2.code,
                            village_code=f"{t2.code}001", **plain())
    late.approved_at = timezone.make_aware(timezone.datetime(2026, 10, 1, 9, 0))
    late.save(update_fields=["approved_at"])
    for town, villages in ((t1, 10), (t2, 5)):
        RegionStatistic.objects.create(region=town, year=2020, measure="villages", value=villages)
    RegionStatistic.objects.create(region_id=TIANHE, year=2020, measure="villages", value=40)
    RegionStatistic.objects.create(region_id=TIANHE, year=2020, measure="population", value=2_000_000)
    RegionStatistic.objects.create(region_id=TIANHE, year=2027, measure="population", value=9)  # after the period
    schools = [Organisation.objects.create(name=f"测试学校{i}", org_type=OrgType.SCHOOL, region_id=TIANHE)
               for i in range(3)]
    make_institution(None, parent=schools[0], name="测试学校0心理辅导室", kind="school_room", students=900,
                     counsellors=1, **plain())
    make_institution(None, organisation=schools[1], name=schools[1].name, kind="school_room", students=900,
                     counsellors=1, **plain())
    make_institution(None, name="甲大学心理中心", kind="university_centre", students=8000, counsellors=2, **plain())
    make_institution(None, name="乙大学心理中心", kind="university_centre", students=10000, counsellors=2, **plain())
    hospital = make_institution(None, name="测试精神专科医院", kind="psychiatric_hospital",
                                services=["psychiatric_outpatient", "psychology_outpatient", "inpatient"], **plain())
    make_institution(None, name="第二精神专科医院", kind="psychiatric_hospital",
                     services=["psychiatric_outpatient", "inpatient"], **plain())
    make_institution(None, name="三级综合医院心理科", kind="general_hospital_clinic", hospital_level=3,
                     services=["psychology_outpatient"], **plain())
    make_institution(None, name="二级综合医院", kind="general_hospital_clinic", hospital_level=2,
                     services=["smd_management"], **plain())
    make_institution(None, name="一级医院心理门诊", kind="general_hospital_clinic", hospital_level=1,
                     services=["psychology_outpatient"], **plain())
    # Psychiatrists on 2026-09-30: valid (no expiry), valid (expires 2026-12-31), expired 2026-06-30,
    # issued 2026-10-01, revoked; and a nurse.
    make_practitioner(hospital, name="甲", credential=("physician_licence", "P1"))
    make_practitioner(hospital, name="乙", credential=("physician_licence", "P2"), expiry_date=date(2026, 12, 31))
    make_practitioner(hospital, name="丙", credential=("physician_licence", "P3"), expiry_date=date(2026, 6, 30))
    make_practitioner(hospital, name="丁", credential=("physician_licence", "P4"), issue_date=date(2026, 10, 1))
    revoked = make_practitioner(hospital, name="戊", credential=("physician_licence", "P5"))
    Credential.objects.filter(practitioner=revoked).update(revoked_at=timezone.now().replace(year=2026, month=3))
    make_practitioner(hospital, name="己", profession="nurse", credential=None)
    make_institution(None, name="市心理援助热线", kind="hotline", region_code=CITY, services=["hotline"], **plain())
    closed = make_institution(None, name="旧热线", kind="hotline", region_code=CITY, services=["hotline"],
                              **plain())
    set_institution_status(closed, InstitutionStatus.CLOSED, actor=None, source="sanction")
    make_institution(None, name="市心理危机干预队", kind="crisis_team", region_code=CITY, **plain())
    make_institution(None, name="天河康园", kind="rehabilitation_site", **plain())
    for year, measure, value in ((2025, "awareness_urban_surveyed", 2000), (2025, "awareness_urban_aware", 1500),
                                 (2027, "awareness_urban_aware", 1999), (2025, "awareness_rural_surveyed", 800),
                                 (2019, "depression_baseline_cases", 400), (2019, "depression_baseline_treated", 38),
                                 (2026, "depression_cases", 500), (2026, "depression_treated", 72)):
        RegionStatistic.objects.create(region_id="44", year=year, measure=measure, value=value)
    return {"towns": towns}


def test_code_list_counts(db: Any) -> None:
    assert Region.objects.filter(city_code=CITY, level=4, kind=RegionKind.TOWNSHIP).count() == GUANGZHOU_TOWNSHIPS
    assert Region.objects.filter(province_code="44", level=2, kind=RegionKind.PREFECTURE).count() == 21
    assert Region.objects.filter(province_code="44", level=3, kind=RegionKind.COUNTY).count() == 124


def test_township_groups(network: dict[str, Any]) -> None:
    # t1 (active group) and t3 (registered management group) count; t2's group is inactive and t4's
    # was set up after the period.
    rows = table("township_groups")
    assert rows[TIANHE] == (2, 21)
    assert rows[BAIYUN] == (0, 24)
    assert rows[CITY] == (2, GUANGZHOU_TOWNSHIPS)
    assert rows["44"] == (2, GUANGDONG["townships"])
    assert all(len(code) < 9 for code in rows)  # defined at levels 1-3
    assert not any(code.startswith("11") for code in rows)  # Beijing is not served here


def test_village_rooms(network: dict[str, Any]) -> None:
    t1, t2, t3, _t4 = network["towns"]
    rows = table("village_rooms")
    assert rows[t1.code] == (2, 10)  # villages 001 and 002; 003's room is suspended
    assert rows[t2.code] == (0, 5)  # its room was approved after the period
    assert rows[t3.code] == (0, None)  # no figure
    assert rows[TIANHE] == (2, 40)  # the county's own figure
    assert rows[CITY] == (2, None)  # no own figure and not every county has one


def test_school_rooms_and_universities(network: dict[str, Any]) -> None:
    assert table("school_rooms")[TIANHE] == (2, 3)
    assert table("school_rooms")[BAIYUN] == (0, 0)
    assert table("university_counsellors")[TIANHE] == (1, 2)  # 2 × 4,000 ≥ 8,000; 2 × 4,000 < 10,000
    assert table("university_counsellors")["44"] == (1, 2)


def test_psychiatrists_per_100k(network: dict[str, Any]) -> None:
    rows = table("psychiatrists_per_100k")
    assert rows[TIANHE] == (2, 2_000_000)  # 甲 and 乙; the 2027 population is after the period
    assert engine.definitions.get("psychiatrists_per_100k").value(*rows[TIANHE]) == pytest.approx(0.1)
    assert rows[CITY] == (2, None)
    # In 2026Q4 乙's licence is still valid on 31 December; 丁's (issued 1 October) now counts too.
    assert table("psychiatrists_per_100k", periods.parse("2026Q4"))[TIANHE] == (3, 2_000_000)


def test_hotlines_crisis_teams_rehab(network: dict[str, Any]) -> None:
    assert table("province_hotline") == {"44": (1, None)}  # the closed hotline is not counted
    assert table("crisis_teams_province") == {"44": (1, 1)}
    teams = table("crisis_teams_city")
    assert teams[CITY] == (1, 1)
    assert teams["44"] == (1, GUANGDONG["prefectures"])
    rehab = table("county_rehab")
    assert rehab[CITY] == (1, 11)
    assert rehab["44"] == (1, GUANGDONG["counties"])


def test_hospitals(network: dict[str, Any]) -> None:
    assert table("psychiatric_hospital_psych_clinic")[TIANHE] == (1, 2)
    assert table("general_hospital_psych_clinic")[TIANHE] == (1, 2)  # the 一级 hospital is left out


def test_surveys(network: dict[str, Any]) -> None:
    assert table("awareness_urban")["44"] == (1500, 2000)  # the 2027 figure is after the period
    assert table("awareness_rural")["44"] == (0, None)  # respondents without a result
    assert table("awareness_students")["44"] == (0, None)
    # baseline 38/400 = 950‱, current 72/500 = 1440‱: +490 on 950 = +51.6%
    increase = table("depression_treatment_increase")["44"]
    assert increase == (490, 950)
    value = engine.definitions.get("depression_treatment_increase").value(*increase)
    assert value == pytest.approx(51.58, abs=0.01)


def test_one_statement_per_indicator(network: dict[str, Any]) -> None:
    with CaptureQueriesContext(connection) as queries:
        rows = list(service_sql.calculate(Q3, set(service_sql.CODES)))
    assert len(queries.captured_queries) == len(service_sql.CODES)
    assert {r[0] for r in rows} == set(service_sql.CODES)


def test_engine_stores_service_rows(network: dict[str, Any]) -> None:
    run = engine.refresh(Q3, codes=["township_groups", "psychiatrists_per_100k"])
    assert run.error == ""
    from xinqiao.indicators.models import IndicatorResult

    stored = IndicatorResult.objects.get(period="2026Q3", indicator="township_groups", region_id=TIANHE)
    assert (stored.numerator, stored.denominator) == (2, 21)
    assert stored.value == pytest.approx(200 / 21)


def test_population_roll_up(db: Any) -> None:
    # Guangzhou has 11 counties: the city's figure is their sum only once every one has a figure.
    counties = list(Region.objects.filter(parent_id=CITY, level=3).values_list("code", flat=True))
    for n, code in enumerate(counties[:-1]):
        RegionStatistic.objects.create(region_id=code, year=2020, measure="population", value=1000 + n)
    assert CITY not in populations.figures("population", 2026)
    RegionStatistic.objects.create(region_id=counties[-1], year=2018, measure="population", value=7)
    figures = populations.figures("population", 2026)
    assert figures[CITY] == sum(1000 + n for n in range(len(counties) - 1)) + 7
    assert "44" not in figures  # other prefectures have none
    assert populations.figures("population", 2020)[counties[0]] == 1000
    assert populations.figures("population", 2019) == {counties[-1]: 7}  # the only figure before 2020


# --------------------------------------------------------------------------------------------------
# Property: SQL = plain Python over generated networks
# --------------------------------------------------------------------------------------------------

TOWNS = 4

town_spec = st.fixed_dictionaries({
    "group": st.sampled_from(["none", "active", "inactive", "late", "registered"]),
    "villages": st.one_of(st.none(), st.integers(0, 30)),
    "rooms": st.lists(st.integers(1, 6), max_size=4),  # village numbers with a counselling room
    "population": st.one_of(st.none(), st.integers(1, 500_000)),
    "psychiatrists": st.integers(0, 3),
})
TIANHE_BAIYUN = (TIANHE, BAIYUN)
school_spec = st.tuples(st.sampled_from(TIANHE_BAIYUN), st.booleans())
university_spec = st.tuples(st.sampled_from(TIANHE_BAIYUN), st.integers(0, 20000), st.integers(0, 6))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(towns=st.lists(town_spec, min_size=TOWNS, max_size=TOWNS), schools=st.lists(school_spec, max_size=5),
       universities=st.lists(university_spec, max_size=4), county_population=st.one_of(st.none(),
                                                                                       st.integers(1, 10**7)))
def test_sql_equals_plain_python(db: Any, towns: list[dict[str, Any]], schools: list[tuple[str, bool]],
                                 universities: list[tuple[str, int, int]], county_population: int | None) -> None:
    from django.db import transaction

    with transaction.atomic():
        expected = _build(towns, schools, universities, county_population)
        for code, want in expected.items():
            got = table(code)
            for region, pair in want.items():
                assert got.get(region) == pair, (code, region, got.get(region), pair)
        transaction.set_rollback(True)


def _build(towns: list[dict[str, Any]], schools: list[tuple[str, bool]], universities: list[tuple[str, int, int]],
           county_population: int | None) -> dict[str, dict[str, tuple[int, int | None]]]:
    """Write the generated network and return what each indicator must be, counted in plain Python."""
    regions = list(Region.objects.filter(parent_id=TIANHE, kind=RegionKind.TOWNSHIP).order_by("code")[:TOWNS])
    tianhe_towns = Region.objects.filter(parent_id=TIANHE, level=RegionLevel.TOWNSHIP).count()
    groups = rooms_total = psych_total = 0
    exp: dict[str, dict[str, tuple[int, int | None]]] = {c: {} for c in (
        "village_rooms", "psychiatrists_per_100k", "school_rooms", "university_counsellors", "township_groups")}
    hospital = make_institution(None, name="生成医院", kind="psychiatric_hospital", **plain())
    serial = 0
    for town, spec in zip(regions, towns, strict=True):
        kind = spec["group"]
        if kind in ("active", "inactive", "late"):
            ManagementGroup.objects.create(kind="comprehensive", name=f"组{town.code}", region=town,
                                           active=kind != "inactive",
                                           established_on=date(2027, 1, 1) if kind == "late" else date(2021, 1, 1))
        elif kind == "registered":
            make_institution(None, name=f"{town.name}综合管理小组", kind="management_group", region_code=town.code,
                             **plain())
        groups += kind in ("active", "registered")
        for n, village in enumerate(spec["rooms"]):
            make_institution(None, name=f"{town.code}室{n}", kind="counselling_room", region_code=town.code,
                             village_code=f"{town.code}{village:03d}", **plain())
        rooms = len(set(spec["rooms"]))
        rooms_total += rooms
        if spec["villages"] is not None:
            RegionStatistic.objects.create(region=town, year=2020, measure="villages", value=spec["villages"])
        exp["village_rooms"][town.code] = (rooms, spec["villages"])
        if spec["population"] is not None:
            RegionStatistic.objects.create(region=town, year=2021, measure="population", value=spec["population"])
        for _ in range(spec["psychiatrists"]):
            serial += 1
            p = make_practitioner(hospital, name=f"医{serial}", credential=("physician_licence", f"G{serial}"))
            p.region_id = town.code
            p.save()
        psych_total += spec["psychiatrists"]
    if county_population is not None:
        RegionStatistic.objects.create(region_id=TIANHE, year=2020, measure="population", value=county_population)
    exp["village_rooms"][TIANHE] = (rooms_total, None)  # 21 townships, at most 4 with a figure
    exp["psychiatrists_per_100k"][TIANHE] = (psych_total, county_population)
    exp["township_groups"][TIANHE] = (groups, tianhe_towns)
    exp["township_groups"][BAIYUN] = (0, 24)
    for i, (county, with_room) in enumerate(schools):
        school = Organisation.objects.create(name=f"生成学校{i}", org_type=OrgType.SCHOOL, region_id=county)
        if with_room:
            make_institution(None, parent=school, name=f"生成学校{i}辅导室", kind="school_room", region_code=county,
                             students=100, counsellors=1, **plain())
    for county in (TIANHE, BAIYUN):
        mine = [w for c, w in schools if c == county]
        exp["school_rooms"][county] = (sum(mine), len(mine))
        unis = [(s, c) for where, s, c in universities if where == county]
        exp["university_counsellors"][county] = (sum(c * 4000 >= s for s, c in unis), len(unis))
    exp["school_rooms"][CITY] = (sum(w for _c, w in schools), len(schools))
    for i, (county, students, counsellors) in enumerate(universities):
        make_institution(None, name=f"生成大学{i}", kind="university_centre", region_code=county, students=students,
                         counsellors=counsellors, **plain())
    return exp
