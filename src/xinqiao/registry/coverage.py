"""Coverage of the service network per region, computed set-based in SQL (DOMAIN.md §6).

For a region and each of its child regions (a city and its counties, a county and its townships):

- townships with a 综合管理小组: townships of the national code list (kind ``township``) where the
  caregroups app has an active comprehensive management group, or the registry an active
  institution of kind ``management_group`` (one ``IN (subquery)`` each), ÷ those townships;
- villages/communities with a 心理咨询室/社会工作室: distinct village codes of active
  ``counselling_room`` institutions ÷ the number of villages and communities (``RegionStatistic``
  ``villages``: the code list stops at townships, so this denominator is a data file);
- primary and secondary schools with a 心理辅导室: school organisations with an active ``school_room``
  (registered as the school or as a unit under it) ÷ school organisations known to the platform;
- universities: counselling centres, students, full-time counselling staff, and how many meet
  1 per 4,000 students;
- psychiatrists per 100,000: active psychiatrists holding a valid credential whose type
  ``counts_as`` ``psychiatrist`` ÷ population (``RegionStatistic`` ``population`` or a parameter);
- hotlines per province, crisis teams per city.

Each figure is one grouped query (``GROUP BY`` the child's region column) plus one for the region's
own total: a fixed number of queries whatever the size of the network.

The querysets that define what counts (an active institution, a township with a group, a school with
a room, a university meeting the ratio, a qualifying psychiatrist, a hotline, a crisis team) are the
public functions below; the indicators app (``indicators/service_sql.py``) builds its set-based SQL
for every region from the same ones, with ``as_of`` the last day of the period.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone

from xinqiao.core.models import Organisation, OrgType, Region, RegionKind, RegionLevel
from xinqiao.core.models.region import SCOPE_COLUMN
from xinqiao.core.regions_data import level_of
from xinqiao.registry import rules
from xinqiao.registry.models import (
    Credential,
    Institution,
    InstitutionKind,
    InstitutionStatus,
    Measure,
    PointService,
    Practitioner,
    PractitionerStatus,
    Profession,
    RegionStatistic,
    ServiceCode,
)

#: Column of the Region table that places a region row inside a region of each level.
REGION_TABLE_COLUMN = {RegionLevel.PROVINCE: "province_code", RegionLevel.PREFECTURE: "city_code",
                       RegionLevel.COUNTY: "county_code", RegionLevel.TOWNSHIP: "code"}


@dataclass
class Ratio:
    numerator: int
    denominator: int | None
    percent: float | None
    target: float | None
    meets: bool | None


def _ratio(numerator: int, denominator: int | None, target: float | None) -> Ratio:
    pct = rules.percent(numerator, denominator)
    return Ratio(numerator, denominator, pct, target, None if pct is None or target is None else pct >= target)


@dataclass
class Row:
    """The figures of one region."""

    code: str
    name: str
    management_groups: Ratio
    counselling_rooms: Ratio
    school_rooms: Ratio
    universities: int
    students: int
    counsellors: int
    universities_meeting: int
    students_per_counsellor: float | None
    psychiatrists: int
    population: int | None
    psychiatrists_per_100k: float | None
    psychiatrist_target: float
    psychiatrists_meet: bool | None
    hotlines: int
    crisis_teams: int


@dataclass
class Report:
    region_code: str
    region_name: str
    child_level: int | None
    year: int
    population_year: int | None
    village_year: int | None
    total: Row
    rows: list[Row] = field(default_factory=list)
    province_hotlines: list[dict[str, Any]] = field(default_factory=list)
    cities_with_crisis_team: Ratio | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def active_institutions(as_of: date | None = None) -> Any:
    """Institutions registered and active; with ``as_of``, approved by the end of that day (the
    registry keeps no dated status history: a closed institution is not counted for past periods)."""
    qs = Institution.objects.filter(status=InstitutionStatus.ACTIVE)
    if as_of is not None:
        end = timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time.min))
        qs = qs.filter(Q(approved_at__isnull=True) | Q(approved_at__lt=end))
    return qs


def has_management_group(as_of: date | None = None) -> Any:
    """``Q`` on a township's ``code``: an active comprehensive 综合管理小组 (caregroups, established by
    ``as_of``) or an active registry institution of kind ``management_group``. ``IN (subquery)`` rather
    than a correlated EXISTS: each subquery runs once, whatever the number of townships."""
    active = active_institutions(as_of)
    has_group: Any = Q(code__in=active.filter(kind=InstitutionKind.MANAGEMENT_GROUP).values("township_code"))
    if apps.is_installed("xinqiao.caregroups"):
        groups = apps.get_model("caregroups", "ManagementGroup").objects.filter(active=True, kind="comprehensive")
        if as_of is not None:
            groups = groups.filter(established_on__lte=as_of)
        has_group = has_group | Q(code__in=groups.values("township_code"))
    return has_group


def schools() -> Any:
    """Primary and secondary school organisations known to the platform."""
    return Organisation.objects.filter(org_type=OrgType.SCHOOL, is_active=True)


def has_school_room(as_of: date | None = None) -> Any:
    """``Q`` on an organisation: an active ``school_room`` registered as it or as a unit under it."""
    rooms = active_institutions(as_of).filter(kind=InstitutionKind.SCHOOL_ROOM)
    return Q(pk__in=rooms.values("organisation__parent")) | Q(pk__in=rooms.values("organisation"))


def university_centres(as_of: date | None = None) -> Any:
    return active_institutions(as_of).filter(kind=InstitutionKind.UNIVERSITY_CENTRE)


def meets_counsellor_ratio() -> Any:
    """1 when full-time counselling staff × 4,000 (coverage.json) ≥ students, else 0 (unknown: 0)."""
    per_student = rules.coverage_config()["targets"]["university_students_per_counsellor"]["max"]
    return Case(When(GreaterThanOrEqual(F("counsellors") * int(per_student), F("students")), then=Value(1)),
                default=Value(0), output_field=IntegerField())


def qualifying_psychiatrists(day: date) -> Any:
    """Practising psychiatrists holding, on ``day``, a credential whose type ``counts_as`` psychiatrist
    (issued by then, not expired, not revoked by then)."""
    qualifying = [t.code for t in rules.credential_types().values() if t.counts_as == "psychiatrist"]
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    valid = (Credential.objects.filter(type_code__in=qualifying)
             .filter(Q(revoked_at__isnull=True) | Q(revoked_at__gte=end))
             .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=day))
             .filter(Q(issue_date__isnull=True) | Q(issue_date__lte=day)))
    return Practitioner.objects.filter(profession=Profession.PSYCHIATRIST, status=PractitionerStatus.ACTIVE,
                                       pk__in=valid.values("practitioner"))


def offering(active: Any, *codes: str) -> Any:
    """Those of ``active`` offering one of the service ``codes`` at an active service point."""
    return active.filter(pk__in=PointService.objects.filter(code__in=codes, point__is_active=True)
                         .values("point__institution"))


def hotlines(active: Any) -> Any:
    """Institutions offering a hotline at an active point."""
    return offering(active, ServiceCode.HOTLINE)


def crisis_teams(active: Any) -> Any:
    return active.filter(kind=InstitutionKind.CRISIS_TEAM)


def _grouped(qs: Any, column: str, aggregate: Any) -> dict[str, Any]:
    return {row[column]: row["n"] for row in qs.values(column).annotate(n=aggregate).order_by(column)}


def _latest_year(measure: str, region_code: str, year: int) -> int | None:
    col = SCOPE_COLUMN[level_of(region_code)]
    row = (RegionStatistic.objects.filter(measure=measure, year__lte=year, **{col: region_code})
           .order_by("-year").values_list("year", flat=True).first())
    return int(row) if row is not None else None


def _statistics(measure: str, region: Region, child_level: int | None, year: int | None,
                child_column: str | None, child_codes: list[str]) -> tuple[dict[str, int], int | None]:
    """Figures at the child level (by child code) and the region's own; without its own, the sum of
    its children's when every child has one (a partial sum would understate the denominator)."""
    if year is None:
        return {}, None
    inside = RegionStatistic.objects.filter(measure=measure, year=year, **{region.scope_column: region.code})
    children: dict[str, int] = {}
    if child_level is not None and child_column is not None:
        children = {k: int(v) for k, v in _grouped(inside.filter(region__level=child_level), child_column,
                                                   Sum("value")).items()}
    own = inside.filter(region_id=region.code).values_list("value", flat=True).first()
    complete = bool(child_codes) and all(code in children for code in child_codes)
    total = int(own) if own is not None else (sum(children[c] for c in child_codes) if complete else None)
    return children, total


def coverage(region_code: str, *, year: int | None = None, populations: Mapping[str, int] | None = None,
             today: date | None = None) -> Report:
    """The coverage report of a region and its children (see the module docstring)."""
    region = Region.objects.get(code=region_code)
    today = today or timezone.localdate()
    year = year or today.year
    targets = rules.coverage_config()["targets"]
    level = region.level
    child_level = level + 1 if level < RegionLevel.TOWNSHIP else None
    child_column = SCOPE_COLUMN[child_level] if child_level else None
    own_column = region.scope_column
    inside = {own_column: region.code}

    child_regions = list(Region.objects.filter(parent_id=region.code).order_by("code")) if child_level else []
    codes = [r.code for r in child_regions]

    def per_child_and_total(qs: Any, aggregate: Any) -> tuple[dict[str, Any], Any]:
        qs = qs.filter(**inside)
        by_child = _grouped(qs, child_column, aggregate) if child_column else {}
        total = qs.aggregate(n=aggregate)["n"]
        return by_child, total

    active = active_institutions()

    # Townships with a management group ÷ townships: a township counts when the caregroups app has an
    # active 综合管理小组 there, or the registry has an active institution of kind management_group.
    township_rows = Region.objects.filter(level=RegionLevel.TOWNSHIP, kind=RegionKind.TOWNSHIP,
                                          **{REGION_TABLE_COLUMN[RegionLevel(level)]: region.code})
    with_group = township_rows.filter(has_management_group())
    if child_level:
        key = REGION_TABLE_COLUMN[RegionLevel(child_level)]
        townships_by_child = _grouped(township_rows, key, Count("code"))
        groups_by_child = _grouped(with_group, key, Count("code"))
    else:
        townships_by_child, groups_by_child = {}, {}
    townships_total, groups_total = township_rows.count(), with_group.count()

    # Villages/communities with a counselling room ÷ villages (data file).
    village_year = _latest_year(Measure.VILLAGES, region.code, year)
    villages_by_child, villages_total = _statistics(Measure.VILLAGES, region, child_level, village_year, child_column,
                                                   codes)
    rooms_by_child, rooms_total = per_child_and_total(
        active.filter(kind=InstitutionKind.COUNSELLING_ROOM).exclude(village_code=""),
        Count("village_code", distinct=True))

    # Schools with a 心理辅导室 ÷ schools known to the platform.
    school_qs = schools()
    schools_by_child, schools_total = per_child_and_total(school_qs, Count("id"))
    served_by_child, served_total = per_child_and_total(school_qs.filter(has_school_room()), Count("id"))

    # Universities: counselling staff per student.
    universities = university_centres()
    meeting = Sum(meets_counsellor_ratio())
    uni = {}
    for name, agg in (("n", Count("id")), ("students", Sum("students")), ("counsellors", Sum("counsellors")),
                      ("meeting", meeting)):
        uni[name] = per_child_and_total(universities, agg)

    # Psychiatrists with a valid qualifying credential.
    psychiatrists = qualifying_psychiatrists(today)
    psych_by_child, psych_total = per_child_and_total(psychiatrists, Count("id"))
    population_year = _latest_year(Measure.POPULATION, region.code, year)
    pop_by_child, pop_total = _statistics(Measure.POPULATION, region, child_level, population_year,
                                           child_column, codes)
    if populations:
        pop_by_child.update({k: int(v) for k, v in populations.items() if k in codes})
        if region.code in populations:
            pop_total = int(populations[region.code])

    # Hotlines and crisis teams.
    hotline_qs = hotlines(active)
    hotlines_by_child, hotlines_total = per_child_and_total(hotline_qs, Count("id"))
    teams = crisis_teams(active)
    teams_by_child, teams_total = per_child_and_total(teams, Count("id"))

    target_pct = {
        "groups": float(targets["management_group_townships"]["percent"]),
        "rooms": float(targets["counselling_room_villages"]["percent"]),
        "schools": float(targets["school_rooms"]["percent"]),
    }
    psych_target = rules.psychiatrist_target(region.code[:2])

    def row(code: str, name: str, pick: Any) -> Row:
        students = int(pick(uni["students"]) or 0)
        counsellors = int(pick(uni["counsellors"]) or 0)
        psych = int(pick((psych_by_child, psych_total)) or 0)
        population = pick((pop_by_child, pop_total))
        per_100k = rules.per_100k(psych, population)
        return Row(
            code=code, name=name,
            management_groups=_ratio(int(pick((groups_by_child, groups_total)) or 0),
                                     pick((townships_by_child, townships_total)), target_pct["groups"]),
            counselling_rooms=_ratio(int(pick((rooms_by_child, rooms_total)) or 0),
                                     pick((villages_by_child, villages_total)), target_pct["rooms"]),
            school_rooms=_ratio(int(pick((served_by_child, served_total)) or 0),
                                pick((schools_by_child, schools_total)) or None, target_pct["schools"]),
            universities=int(pick(uni["n"]) or 0), students=students, counsellors=counsellors,
            universities_meeting=int(pick(uni["meeting"]) or 0),
            students_per_counsellor=round(students / counsellors, 1) if counsellors else None,
            psychiatrists=psych, population=population, psychiatrists_per_100k=per_100k,
            psychiatrist_target=psych_target,
            psychiatrists_meet=None if per_100k is None else per_100k >= psych_target,
            hotlines=int(pick((hotlines_by_child, hotlines_total)) or 0),
            crisis_teams=int(pick((teams_by_child, teams_total)) or 0),
        )

    rows = [row(r.code, r.name, lambda pair, c=r.code: pair[0].get(c)) for r in child_regions]
    total = row(region.code, region.name, lambda pair: pair[1])

    # Hotlines per province (the provinces of this region: one for anything below a province).
    province_name = Region.objects.filter(code=region.code[:2]).values_list("name", flat=True).first() or ""
    province_hotlines = [
        {"province_code": code, "province_name": province_name, "hotlines": n,
         "meets": n >= int(targets["hotlines_per_province"]["min"])}
        for code, n in _grouped(active.filter(province_code=region.code[:2]).filter(
            pk__in=hotline_qs.values("pk")), "province_code", Count("id")).items()
    ] or [{"province_code": region.code[:2], "province_name": province_name, "hotlines": 0, "meets": False}]

    cities_ratio = None
    if level == RegionLevel.PROVINCE:
        cities = Region.objects.filter(parent_id=region.code, level=RegionLevel.PREFECTURE,
                                       kind=RegionKind.PREFECTURE).count()
        with_team = teams.filter(province_code=region.code).exclude(city_code="").values("city_code").distinct().count()
        cities_ratio = _ratio(with_team, cities, float(targets["crisis_team_cities"]["percent"]))
    elif level == RegionLevel.PREFECTURE:
        with_team = int(teams.filter(city_code=region.code).exists())
        cities_ratio = _ratio(with_team, 1, float(targets["crisis_team_cities"]["percent"]))

    return Report(region_code=region.code, region_name=region.full_name(), child_level=child_level, year=year,
                  population_year=population_year, village_year=village_year, total=total, rows=rows,
                  province_hotlines=province_hotlines, cities_with_crisis_team=cities_ratio)

