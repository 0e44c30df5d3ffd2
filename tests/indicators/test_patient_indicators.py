"""Patient indicators (DOMAIN.md §6): a hand-worked register, boundary cases, and SQL = plain Python.

The hand-worked example is the register below, for the quarter 2026Q3 (E = 2026-09-30; the window W
is 2025-10-01 … 2026-09-30; the period itself 2026-07-01 … 2026-09-30). Every count in the
expectations was worked out by hand from the definitions in docs/domain/indicators.md.

Township A (county 天河 440106):
- P1 F20, registered 2025-01-10; home visits 2025-10-20, 2026-01-15, 2026-04-10, 2026-07-05,
  2026-09-20, all 规律 and 稳定 (gaps 19, 87, 85, 86, 77 and 10 days); in community rehab.
- P2 F31; phone visits 2025-11-01, 2026-06-01 (轻度滋事, before the period), 2026-08-15 (肇事); all
  间断 and 基本稳定.
- P3 F20; a visit 2026-02-01, died 2026-03-01: off the register.
- P4 F20; admitted to hospital 2026-09-10; no visit in W.
- P5 F20; last visit 2025-09-15 (before W), 规律; in community rehab.
- P6 registered 2026-10-05: after E.
- P7 F20, registered 2025-06-01; only a failed attempt 2026-04-01; 失访 since 2026-05-01; supplement
  says no community rehab.
- P9 F20; 销案 2026-08-01: off the register.
Township B (county 白云 440111):
- P8 F22; clinic visit 2026-09-01 (规律, 稳定, 轻度滋事); moved out 2026-10-10, after E.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.indicators.factories import change, followup, patient, population, supplement
from xinqiao.core.models import Region
from xinqiao.indicators import definitions, drilldown, engine
from xinqiao.indicators.periods import Period, parse, year_window

pytestmark = pytest.mark.django_db

PATIENT_CODES = [ind.code for ind in definitions.patient_indicators()]
Q3 = parse("2026Q3")


def patient_table(period: Period) -> dict[str, dict[str, tuple[int, int | None]]]:
    """code → region → (numerator, denominator), patient indicators only."""
    out: dict[str, dict[str, tuple[int, int | None]]] = {code: {} for code in PATIENT_CODES}
    for (code, region), pair in engine.calculate(period, PATIENT_CODES).items():
        out[code][region] = pair
    return out


@pytest.fixture
def register(towns: list[Region]) -> dict[str, Any]:
    a, b = towns
    p1 = patient(a)
    for d in (date(2025, 10, 20), date(2026, 1, 15), date(2026, 4, 10), date(2026, 7, 5), date(2026, 9, 20)):
        followup(p1, d)
    supplement(p1, community_rehab=True)
    p2 = patient(a, diagnosis="F31")
    followup(p2, date(2025, 11, 1), method=3, adherence=2, classification=2)
    followup(p2, date(2026, 6, 1), method=3, adherence=2, classification=2, minor=1)
    followup(p2, date(2026, 8, 15), method=3, adherence=2, classification=2, trouble=1)
    p3 = patient(a)
    followup(p3, date(2026, 2, 1))
    change(p3, "dead", date(2026, 3, 1))
    p4 = patient(a)
    change(p4, "in_hospital", date(2026, 9, 10))
    p5 = patient(a)
    followup(p5, date(2025, 9, 15))
    supplement(p5, community_rehab=True)
    p6 = patient(a, registered_on=date(2026, 10, 5))
    followup(p6, date(2026, 10, 6))
    p7 = patient(a, registered_on=date(2025, 6, 1))
    followup(p7, date(2026, 4, 1), outcome="not_reached", method=3)
    change(p7, "lost", date(2026, 5, 1))
    supplement(p7, community_rehab=False)
    p9 = patient(a)
    followup(p9, date(2026, 7, 1))
    change(p9, "deregistered", date(2026, 8, 1))
    p8 = patient(b, diagnosis="F22")
    followup(p8, date(2026, 9, 1), method=1, minor=1)
    change(p8, "moved_out", date(2026, 10, 10))
    population(a.county_code, 2025, 200_000)
    return {"a": a, "b": b, **{f"p{i}": p for i, p in enumerate((p1, p2, p3, p4, p5, p6, p7, p8, p9), start=1)}}


# (numerator, denominator) in township A, township B, and the city (= the province) for 2026Q3.
HAND_WORKED: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    "managed_rate": ((3, 5), (1, 1), (4, 6)),                   # P1 P2 P4 | P8
    "standard_management_rate": ((1, 5), (0, 1), (1, 6)),       # P1
    "face_to_face_rate": ((1, 3), (1, 1), (2, 4)),              # P1 | P8 (of 年在管)
    "medication_rate": ((3, 5), (1, 1), (4, 6)),                # P1 规律, P2 间断, P4 in hospital | P8
    "regular_medication_rate": ((1, 5), (1, 1), (2, 6)),        # P1 | P8
    "schizophrenia_medication_rate": ((2, 2), (0, 0), (2, 2)),  # F20 年在管: P1, P4
    "stable_rate": ((1, 2), (1, 1), (2, 3)),                    # home 年在管 P1 P2 | P8
    "community_rehab_rate": ((2, 4), (0, 1), (2, 5)),           # home P1 P2 P5 P7; rehab P1 P5
    "incident_rate": ((1, 5), (0, 1), (1, 6)),                  # P2 肇事 on 2026-08-15
    "minor_trouble_rate": ((0, 5), (1, 1), (1, 6)),             # P2's was before the period | P8
}


@pytest.mark.parametrize("code", sorted(HAND_WORKED))
def test_hand_worked_example(register: dict[str, Any], code: str) -> None:
    got = patient_table(Q3)[code]
    town_a, town_b, city = HAND_WORKED[code]
    a, b = register["a"], register["b"]
    assert got[a.code] == town_a
    assert got[a.county_code] == town_a
    assert got[b.code] == town_b
    assert got[b.county_code] == town_b
    assert got[a.city_code] == city
    assert got[a.province_code] == city
    assert set(got) == {a.code, a.county_code, b.code, b.county_code, a.city_code, a.province_code}


def test_hand_worked_prevalence(register: dict[str, Any]) -> None:
    got = patient_table(Q3)["prevalence"]
    a, b = register["a"], register["b"]
    # County A's own 2025 figure is the latest ≤ 2026; township A has none of its own.
    assert got[a.county_code] == (5, 200_000)
    assert got[a.code] == (5, None)
    assert got[b.code] == (1, None)
    value = definitions.get("prevalence").value(5, 200_000)
    assert value == pytest.approx(0.025)  # ‰


def test_hand_worked_values_and_drilldown(register: dict[str, Any]) -> None:
    a = register["a"]
    missing = set(drilldown.patients("managed_rate", Q3, a.code, "missing"))
    assert missing == {register["p5"], register["p7"]}
    assert set(drilldown.patients("standard_management_rate", Q3, a.city_code, "numerator")) == {register["p1"]}
    assert set(drilldown.patients("incident_rate", Q3, a.province_code, "numerator")) == {register["p2"]}
    assert set(drilldown.patients("community_rehab_rate", Q3, a.county_code, "denominator")) == {
        register[k] for k in ("p1", "p2", "p5", "p7")}


def test_a_year_counts_the_calendar_year(register: dict[str, Any]) -> None:
    """For the year 2026 the window is 2026-01-01 … 2026-12-31: P6 (registered 2026-10-05) and P8's
    move (2026-10-10) now fall inside; P4 is still in hospital."""
    got = patient_table(parse("2026"))
    a, b = register["a"], register["b"]
    assert got["managed_rate"][a.code] == (4, 6)  # P1 P2 P4 P6 of P1 P2 P4 P5 P6 P7
    assert b.code not in got["managed_rate"]      # P8 moved out: township B has nobody on the register


# --- Boundaries ----------------------------------------------------------------------------------

def _visits(p: Any, start: date, gaps: list[int]) -> None:
    day = start
    followup(p, day)
    for gap in gaps:
        day += timedelta(days=gap)
        followup(p, day)


def test_standard_management_gap_of_92_days_is_allowed_93_is_not(towns: list[Region]) -> None:
    ok = patient(towns[0], registered_on=date(2020, 1, 1))
    _visits(ok, date(2025, 10, 1), [92, 92, 92, 88])          # ends 2026-09-25
    late = patient(towns[0], registered_on=date(2020, 1, 1))
    _visits(late, date(2025, 10, 1), [92, 93, 91, 88])
    three = patient(towns[0], registered_on=date(2020, 1, 1))
    _visits(three, date(2025, 12, 1), [90, 90, 90])           # first visit 61 days into the window: fine
    edge = patient(towns[0], registered_on=date(2020, 1, 1))
    _visits(edge, date(2025, 10, 1), [80, 80, 80])            # last 2026-06-29, 93 days before E
    got = set(drilldown.patients("standard_management_rate", Q3, towns[0].code, "numerator"))
    assert got == {ok, three}


def test_registration_inside_the_window_starts_the_gap_count(towns: list[Region]) -> None:
    p = patient(towns[0], registered_on=date(2026, 3, 1))
    _visits(p, date(2026, 3, 20), [60, 60, 60])               # 2026-03-20 … 2026-09-16
    assert list(drilldown.patients("standard_management_rate", Q3, towns[0].code, "numerator")) == [p]


def test_status_without_history_uses_the_patient_status_when_dated_before_the_end(towns: list[Region]) -> None:
    dead_later = patient(towns[0], history=False, status="dead", status_on=date(2026, 11, 1))
    dead_before = patient(towns[0], history=False, status="dead", status_on=date(2026, 9, 1))
    undated = patient(towns[0], history=False, status="in_hospital")
    undated.status_changed_on = None
    undated.save()
    registered = set(drilldown.patients("medication_rate", Q3, towns[0].code, "denominator"))
    assert registered == {dead_later, undated}
    assert dead_before not in registered
    assert list(drilldown.patients("medication_rate", Q3, towns[0].code, "numerator")) == [undated]


def test_stable_needs_a_recent_last_visit(towns: list[Region]) -> None:
    recent = patient(towns[0])
    followup(recent, date(2026, 6, 30))                        # 92 days before E
    old = patient(towns[0])
    followup(old, date(2026, 6, 29))                           # 93 days
    unstable = patient(towns[0])
    followup(unstable, date(2026, 5, 1))
    followup(unstable, date(2026, 9, 1), classification=1)
    assert list(drilldown.patients("stable_rate", Q3, towns[0].code, "numerator")) == [recent]
    assert patient_table(Q3)["stable_rate"][towns[0].code] == (1, 3)


def test_last_visit_decides_medication_even_on_the_same_day(towns: list[Region]) -> None:
    p = patient(towns[0])
    followup(p, date(2026, 9, 1), adherence=1)
    followup(p, date(2026, 9, 1), adherence=3)                 # entered later: the last one
    assert patient_table(Q3)["medication_rate"][towns[0].code] == (0, 1)


# --- Property: SQL = plain Python -----------------------------------------------------------------

STATUSES = ("managed", "in_hospital", "lost", "dead", "moved_out", "deregistered")
OFF = {"dead", "moved_out", "deregistered"}
DAY0 = date(2024, 9, 1)


@dataclass
class FU:
    on: date
    outcome: str
    method: int
    adherence: int | None
    classification: int | None
    trouble: int
    minor: int


@dataclass
class Spec:
    town: int
    registered_on: date
    diagnosis: str
    history: bool
    events: list[tuple[date, str]]
    fus: list[FU] = field(default_factory=list)
    rehab: bool | None = None


PERIODS = ["2026Q3", "2026-02", "2025", "2026Q1", "2025-12"]


def _boundaries() -> list[date]:
    """The days where a definition turns: window and period edges, and 92/93 days before the end."""
    out: set[date] = set()
    for key in PERIODS:
        period = parse(key)
        wstart, end = year_window(period)
        for day in (wstart, period.start, end, end - timedelta(days=92)):
            out.update({day - timedelta(days=1), day, day + timedelta(days=1)})
    return sorted(out)


days = st.one_of(st.integers(0, 900).map(lambda n: DAY0 + timedelta(days=n)), st.sampled_from(_boundaries()))
fu_spec = st.builds(FU, on=days, outcome=st.sampled_from(["visited", "visited", "visited", "not_reached"]),
                    method=st.integers(1, 3), adherence=st.one_of(st.none(), st.integers(1, 4)),
                    classification=st.one_of(st.none(), st.integers(1, 3)), trouble=st.integers(0, 1),
                    minor=st.integers(0, 1))
spec = st.builds(Spec, town=st.integers(0, 1), registered_on=days, diagnosis=st.sampled_from(["F20", "F31"]),
                 history=st.booleans(), events=st.lists(st.tuples(days, st.sampled_from(STATUSES)), max_size=3),
                 fus=st.lists(fu_spec, max_size=7), rehab=st.one_of(st.none(), st.booleans()))


def _days(a: date, b: date) -> int:
    return (a - b).days


def reference(specs: list[Spec], period: Period) -> dict[str, dict[str, int]]:
    """Plain-Python flags per patient, straight from docs/domain/indicators.md."""
    rules = definitions.rules()
    gap_max = rules["standard_management"]["max_gap_days"]
    end = period.end
    wstart, _ = year_window(period)
    out: dict[str, dict[str, int]] = {}
    for s in specs:
        if s.registered_on > end:
            continue
        if s.history:
            history = [(s.registered_on, 0, "managed")] + [(d, i + 1, st_) for i, (d, st_) in enumerate(s.events)]
            known = [h for h in history if h[0] <= end]
            status = max(known)[2] if known else None
        else:
            status = None
        if status is None:
            current = s.events[-1] if s.events else (s.registered_on, "managed")
            status = current[1] if current[0] <= end else "managed"
        if status in OFF:
            continue
        in_hosp = status == "in_hospital"
        visits = sorted(((f.on, i, f) for i, f in enumerate(s.fus) if f.outcome == "visited" and wstart <= f.on <= end),
                        key=lambda t: (t[0], t[1]))
        dates = [v[0] for v in visits]
        last = visits[-1][2] if visits else None
        managed = bool(visits) or in_hosp
        standard = False
        if len(visits) >= rules["standard_management"]["min_followups"]:
            edges = [max(wstart, s.registered_on), *dates, end]
            standard = all(_days(b, a) <= gap_max for a, b in itertools.pairwise(edges))
        med = in_hosp or (last is not None and last.adherence in (1, 2))
        schiz = s.diagnosis == "F20" and managed
        home = not in_hosp
        flags = {
            "reg": 1, "managed": managed, "standard": standard,
            "f2f": any(v[2].method in (1, 2) for v in visits), "med": med,
            "regular": last is not None and last.adherence == 1, "schiz": schiz, "schiz_med": schiz and med,
            "home_managed": home and bool(visits),
            "stable": home and last is not None and last.classification == 3
            and _days(end, last.on) <= rules["stable_recent_days"],
            "home": home, "rehab": home and bool(s.rehab),
            "incident": any(v[2].trouble and v[0] >= period.start for v in visits),
            "minor": any(v[2].minor and v[0] >= period.start for v in visits),
        }
        out[str(len(out))] = {k: int(bool(v)) for k, v in flags.items()} | {"_town": s.town}
    return out


def expected_table(specs: list[Spec], period: Period, towns: list[Region]) -> dict[str, dict[str, tuple[int, int | None]]]:
    from xinqiao.indicators.patient_sql import FLAGS

    flags = reference(specs, period)
    table: dict[str, dict[str, tuple[int, int | None]]] = {code: {} for code in FLAGS if code != "prevalence"}
    for code, (num, den) in FLAGS.items():
        if den is None:
            continue
        for f in flags.values():
            town = towns[f["_town"]]
            for region in {town.code, town.county_code, town.city_code, town.province_code}:
                n, d = table[code].get(region, (0, 0))
                table[code][region] = (n + f[num], (d or 0) + f[den])
    return table


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(specs=st.lists(spec, max_size=7), period_key=st.sampled_from(PERIODS))
def test_sql_equals_plain_python(towns: list[Region], specs: list[Spec], period_key: str) -> None:
    from django.db import transaction

    period = parse(period_key)
    with transaction.atomic():
        for s in specs:
            s.events.sort(key=lambda e: e[0])
            s.events = [(max(d, s.registered_on), status) for d, status in s.events]
            last = s.events[-1] if s.events else (s.registered_on, "managed")
            p = patient(towns[s.town], registered_on=s.registered_on, diagnosis=s.diagnosis, history=s.history,
                        status=last[1], status_on=last[0])
            if s.history:
                for d, status in s.events:
                    change(p, status, d)
            for f in s.fus:
                followup(p, f.on, outcome=f.outcome, method=f.method, adherence=f.adherence,
                         classification=f.classification, trouble=f.trouble, minor=f.minor)
            if s.rehab is not None:
                supplement(p, community_rehab=s.rehab)
        got = patient_table(period)
        want = expected_table(specs, period, towns)
        for code, regions in want.items():
            assert got[code] == regions, (code, period_key)
            for region, (num, den) in regions.items():
                for which, count in (("numerator", num), ("denominator", den), ("missing", (den or 0) - num)):
                    assert drilldown.patients(code, period, region, which).count() == count, (code, region, which)
        registered = {r: pair[1] for r, pair in want.get("medication_rate", {}).items()}
        assert {r: pair[0] for r, pair in got["prevalence"].items() if pair[0]} == {
            r: n for r, n in registered.items() if n}
        transaction.set_rollback(True)
