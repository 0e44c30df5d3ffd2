"""The service-system indicators (DOMAIN.md §6, 规划 二(三), 试点工作方案), set-based, one statement each.

Each indicator is one SQL statement that returns a row (region code, level, numerator, denominator)
for every region at the levels its definition lists (``data/indicators.json``), as of the period's
last day. The statement has three parts:

- **facts**: one row per counted thing with its four denormalised region columns and ``num``/``den``
  (a township with or without a 综合管理小组, a school with or without a room, a qualifying
  psychiatrist, …). What counts is defined once, in ``registry/coverage.py`` (the registry's own
  coverage page uses the same querysets), compiled here to SQL;
- **roll-up**: ``SUM`` of the facts ``GROUP BY`` each level's column (``UNION ALL`` of the levels asked);
- **regions**: the national code list (``core_region``) at those levels ``LEFT JOIN`` the roll-up (and
  the regional figures, ``populations.figure_ctes``), so a region with nothing counts 0.

Regions reported are those of the provinces the platform serves: a province with an organisation,
a regional figure or a management group (a provincial deployment does not report on the rest of
the country as zeros). Denominators from regional figures (villages, population, survey
respondents) are ``NULL`` where the region has no figure (the value is then "no data").

As of the period's end: institutions active now and approved by that day (the registry keeps no
dated status history), management groups established by then, credentials issued by then and not
expired or revoked by then, figures of the latest year ≤ the period's year.

| code | numerator | denominator |
|---|---|---|
| township_groups | townships (kind township) with an active comprehensive group or registered management group | townships |
| village_rooms | distinct village codes of active counselling rooms | figure ``villages`` |
| school_rooms | school organisations with an active school room (itself or a unit under it) | active school organisations |
| university_counsellors | university centres whose counselling staff × 4,000 ≥ students | university centres |
| psychiatrists_per_100k | practising psychiatrists with a valid qualifying credential | figure ``population`` |
| province_hotline | institutions offering a hotline at an active point (a count) | — |
| crisis_teams_province | provinces with an active crisis team anywhere in them | provinces |
| crisis_teams_city | prefectures (kind prefecture) with an active crisis team in them | prefectures |
| psychiatric_hospital_psych_clinic | psychiatric hospitals offering ``psychology_outpatient`` | psychiatric hospitals |
| general_hospital_psych_clinic | 二级+ general-hospital institutions offering a psychiatric or psychology clinic | 二级+ general-hospital institutions |
| county_rehab | counties (kind county) with an active rehabilitation site or service | counties |
| awareness_* | survey respondents meeting the standard | survey respondents |
| depression_treatment_increase | current treatment rate − baseline rate (both ‱, rounded) | baseline rate (‱) |
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Case, CharField, Count, F, IntegerField, Max, Q, QuerySet, Sum, Value, When

from xinqiao.core.models import Organisation, Region, RegionKind, RegionLevel
from xinqiao.indicators import definitions, engine, populations
from xinqiao.indicators.periods import Period
from xinqiao.registry import coverage
from xinqiao.registry.models import (
    Credential,
    Institution,
    InstitutionKind,
    Measure,
    PointService,
    Practitioner,
    RegionStatistic,
    ServiceCode,
)

LEVEL_COLUMN = {1: "province_code", 2: "city_code", 3: "county_code", 4: "township_code"}
FACT_COLUMNS = ("province_code", "city_code", "county_code", "township_code")

#: Survey measures: (respondents, meeting the standard).
AWARENESS = {
    "awareness_urban": (Measure.AWARENESS_URBAN_SURVEYED, Measure.AWARENESS_URBAN_AWARE),
    "awareness_rural": (Measure.AWARENESS_RURAL_SURVEYED, Measure.AWARENESS_RURAL_AWARE),
    "awareness_students": (Measure.AWARENESS_STUDENTS_SURVEYED, Measure.AWARENESS_STUDENTS_AWARE),
}
#: Treatment rates are compared in units of 1/10,000 (‱), rounded half up, so that numerator and
#: denominator stay whole numbers.
RATE_UNIT = 10_000

CODES = ("township_groups", "village_rooms", "school_rooms", "university_counsellors", "psychiatrists_per_100k",
         "province_hotline", "crisis_teams_province", "crisis_teams_city", "psychiatric_hospital_psych_clinic",
         "general_hospital_psych_clinic", "county_rehab", "awareness_urban", "awareness_rural",
         "awareness_students", "depression_treatment_increase")


def _one(value: Any = 1) -> Value:
    return Value(value, output_field=IntegerField())


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=_one()), default=_one(0), output_field=IntegerField())


def _facts(qs: QuerySet[Any], num: Any, den: Any, *, township: Any = None, distinct: bool = False) -> QuerySet[Any]:
    """``qs`` as rows of the four region columns, ``num`` and ``den``."""
    extra = {"township_code": township} if township is not None else {}
    out = qs.order_by().annotate(**extra, num=num, den=den).values(*FACT_COLUMNS, "num", "den")
    return out.distinct() if distinct else out


def _region_facts(level: int, kind: str, condition: Q) -> QuerySet[Any]:
    """Regions of the code list at ``level`` and ``kind`` as facts: 1 if ``condition``, out of 1."""
    township = F("code") if level == RegionLevel.TOWNSHIP else Value("", output_field=CharField())
    return _facts(Region.objects.filter(level=level, kind=kind), _flag(condition), _one(), township=township)


def facts(code: str, as_of: date) -> QuerySet[Any] | None:
    """The facts queryset of a service indicator (None for those computed from figures alone)."""
    active = coverage.active_institutions(as_of)
    kind = InstitutionKind
    if code == "township_groups":
        return _region_facts(RegionLevel.TOWNSHIP, RegionKind.TOWNSHIP, coverage.has_management_group(as_of))
    if code == "village_rooms":
        rooms = active.filter(kind=kind.COUNSELLING_ROOM).exclude(village_code="").order_by()
        return rooms.annotate(num=_one(), den=_one(0)).values(*FACT_COLUMNS, "village_code", "num", "den").distinct()
    if code == "school_rooms":
        return _facts(coverage.schools(), _flag(coverage.has_school_room(as_of)), _one())
    if code == "university_counsellors":
        return _facts(coverage.university_centres(as_of), coverage.meets_counsellor_ratio(), _one())
    if code == "psychiatrists_per_100k":
        return _facts(coverage.qualifying_psychiatrists(as_of), _one(), _one(0))
    if code == "province_hotline":
        return _facts(coverage.hotlines(active), _one(), _one(0))
    if code == "crisis_teams_province":
        return _region_facts(RegionLevel.PROVINCE, RegionKind.PROVINCE,
                             Q(code__in=coverage.crisis_teams(active).values("province_code")))
    if code == "crisis_teams_city":
        return _region_facts(RegionLevel.PREFECTURE, RegionKind.PREFECTURE,
                             Q(code__in=coverage.crisis_teams(active).values("city_code")))
    if code == "psychiatric_hospital_psych_clinic":
        clinic = coverage.offering(active, ServiceCode.PSYCHOLOGY_OUTPATIENT)
        return _facts(active.filter(kind=kind.PSYCHIATRIC_HOSPITAL), _flag(Q(pk__in=clinic.values("pk"))), _one())
    if code == "general_hospital_psych_clinic":
        clinic = coverage.offering(active, ServiceCode.PSYCHIATRIC_OUTPATIENT, ServiceCode.PSYCHOLOGY_OUTPATIENT)
        hospitals = active.filter(kind=kind.GENERAL_HOSPITAL_CLINIC, hospital_level__gte=2)
        return _facts(hospitals, _flag(Q(pk__in=clinic.values("pk"))), _one())
    if code == "county_rehab":
        rehab = active.filter(Q(kind=kind.REHABILITATION_SITE)
                              | Q(pk__in=coverage.offering(active, ServiceCode.REHABILITATION).values("pk")))
        return _region_facts(RegionLevel.COUNTY, RegionKind.COUNTY, Q(code__in=rehab.values("county_code")))
    return None


# --------------------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------------------


@dataclass
class Statement:
    """WITH-list pieces of one indicator's statement and the select-list expressions."""

    ctes: list[tuple[str, str]]
    params: list[Any]
    joins: list[str]
    numerator: str
    denominator: str


def _served_cte() -> tuple[str, str]:
    tables = [Organisation._meta.db_table, RegionStatistic._meta.db_table]
    if apps.is_installed("xinqiao.caregroups"):
        tables.append(apps.get_model("caregroups", "ManagementGroup")._meta.db_table)
    return "served", " UNION ".join(f"SELECT province_code FROM {t}" for t in tables)  # noqa: S608


def _facts_statement(qs: QuerySet[Any], levels: Iterable[int], *, numerator: str = "COALESCE(a.num, 0)",
                     denominator: str = "COALESCE(a.den, 0)") -> Statement:
    sql, params = qs.query.sql_with_params()
    agg = " UNION ALL ".join(
        f"SELECT f.{LEVEL_COLUMN[lv]} AS code, SUM(f.num) AS num, SUM(f.den) AS den FROM f "  # noqa: S608
        f"GROUP BY f.{LEVEL_COLUMN[lv]}" for lv in sorted(levels))
    return Statement([("f", sql), ("agg", agg)], list(params), ["LEFT JOIN agg a ON a.code = r.code"],
                     numerator, denominator)


def _add_figure(st: Statement, alias: str, measure: str, year: int) -> None:
    ctes, params = populations.figure_ctes(measure, year, alias)
    st.ctes += ctes
    st.params += params
    st.joins.append(f"LEFT JOIN {alias} ON {alias}.code = r.code")


def _rate(treated: str, cases: str) -> str:
    """treated ÷ cases in ‱, rounded half up, in integer arithmetic (the same on both databases)."""
    return f"(({2 * RATE_UNIT} * {treated}.value + {cases}.value) / (2 * {cases}.value))"


def statement(code: str, period: Period, levels: Iterable[int]) -> Statement:
    """The pieces of ``code``'s statement for ``period`` at ``levels``."""
    year = period.end.year
    qs = facts(code, period.end)
    if code == "province_hotline":
        assert qs is not None
        return _facts_statement(qs, levels, denominator="NULL")
    if code in ("village_rooms", "psychiatrists_per_100k"):
        assert qs is not None
        st = _facts_statement(qs, levels, denominator="base.value")
        _add_figure(st, "base", Measure.VILLAGES if code == "village_rooms" else Measure.POPULATION, year)
        return st
    if qs is not None:
        return _facts_statement(qs, levels)
    st = Statement([], [], [], "", "")
    if code in AWARENESS:
        surveyed, aware = AWARENESS[code]
        _add_figure(st, "base", surveyed, year)
        _add_figure(st, "met", aware, year)
        st.numerator = "CASE WHEN base.value IS NULL THEN 0 ELSE COALESCE(met.value, 0) END"
        st.denominator = "CASE WHEN met.value IS NULL THEN NULL ELSE base.value END"
        return st
    if code == "depression_treatment_increase":
        for alias, measure in (("c0", Measure.DEPRESSION_BASELINE_CASES), ("t0", Measure.DEPRESSION_BASELINE_TREATED),
                               ("c1", Measure.DEPRESSION_CASES), ("t1", Measure.DEPRESSION_TREATED)):
            _add_figure(st, alias, measure, year)
        known = "c0.value > 0 AND c1.value > 0 AND t0.value IS NOT NULL AND t1.value IS NOT NULL"
        st.numerator = f"CASE WHEN {known} THEN {_rate('t1', 'c1')} - {_rate('t0', 'c0')} ELSE 0 END"
        st.denominator = f"CASE WHEN {known} THEN {_rate('t0', 'c0')} END"
        return st
    raise KeyError(code)


def sql(code: str, period: Period, levels: Iterable[int] | None = None) -> tuple[str, list[Any]]:
    """The one statement of ``code`` (its definition's levels unless given): rows of
    ``(region code, level, numerator, denominator)``."""
    levels = sorted(levels if levels is not None else definitions.get(code).levels)
    st = statement(code, period, levels)
    ctes = [*st.ctes, _served_cte()]
    region = Region._meta.db_table
    level_list = ", ".join(str(int(lv)) for lv in levels)
    text = (f"{populations.with_clause(ctes)} SELECT r.code, r.level, {st.numerator}, {st.denominator} "  # noqa: S608
            f"FROM {region} r {' '.join(st.joins)} WHERE r.level IN ({level_list}) "
            f"AND r.province_code IN (SELECT province_code FROM served)")
    return text, st.params


def compute(code: str, period: Period, levels: Iterable[int] | None = None) -> list[engine.Row]:
    """``code``'s rows for every served region at ``levels`` (default: the definition's)."""
    text, params = sql(code, period, levels)
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        return [(code, region, int(level), int(num), None if den is None else int(den))
                for region, level, num, den in cursor.fetchall()]


@engine.calculator(*CODES)
def calculate(period: Period, codes: set[str]) -> Iterable[engine.Row]:
    """The engine's entry: one statement per requested service indicator."""
    for code in CODES:
        if code in codes:
            yield from compute(code, period)


def fingerprint_parts() -> list[Any]:
    """What the service indicators read, for the engine's incremental refresh."""
    parts: list[Any] = []
    for model, aggregates in (
        (Institution, {"n": Count("id"), "u": Max("updated_at"), "a": Max("approved_at")}),
        (PointService, {"n": Count("id"), "i": Max("id"), "p": Sum("point_id")}),
        (Practitioner, {"n": Count("id"), "u": Max("updated_at")}),
        (Credential, {"n": Count("id"), "i": Max("id"), "r": Max("revoked_at"), "e": Max("expiry_date")}),
        (Organisation, {"n": Count("id"), "u": Max("updated_at")}),
    ):
        values = model.objects.aggregate(**aggregates)
        parts += [values[k] for k in sorted(values)]
    if apps.is_installed("xinqiao.caregroups"):
        group = apps.get_model("caregroups", "ManagementGroup")
        values = group.objects.aggregate(n=Count("id"), i=Max("id"), a=Sum(Case(When(active=True, then=1),
                                                                                 default=0)))
        parts += [values[k] for k in sorted(values)]
    return parts
