"""The indicator engine at national scale: the full indicator set for all regions and levels of one quarter.

Run:  xinqiao bench indicators --patients 1000000 [--period 2026Q3] [--database-url URL]
          [--screenings N] [--orm-sample 4] [--repeat 2] [--no-build]

1. Builds or reuses the benchmark population exactly as ``bench lookup`` does (same seed and size:
   same population, ``bench/lookup.py``), then, idempotently and without touching the patients,
   its screening responses (``screening/synth.py``; default one per two patients) and a resident
   population figure (常住人口, ``registry.RegionStatistic``, year 2020, source
   ``bench:<population>``) for every township of the region, about 4.5‰ of it registered, so
   ``prevalence`` has a denominator (summed up to counties, cities and the province).
   A population of the same prefix that is only partly there (a build in progress in another
   session, or an interrupted one) is never touched: the run stops.
2. Times, ``--repeat`` times each, alternating (the fastest run counts; the first warms the cache):
   ``engine.calculate(period)`` for every indicator (``engine_s``), ``engine.calculate`` of the
   patient indicators only (``engine_patient_s``), and the reference SQL for the same patient
   indicators (``bench/indicators_reference.sql``, hand-written from the definitions, not from the
   engine: ``reference_sql_s``). Then ``engine.refresh(period)`` once (compute and store:
   ``refresh_s``). ``peak_rss_mb`` is this process's peak resident memory at that point (before the
   ORM loop, which is not what the target is about).
3. ``agree``: the engine and the reference give the same (numerator, denominator) for every
   (patient indicator, region); a pair missing on one side counts as (0, 0).
4. The naive alternative, ``orm_loop_s``: region by region, the same numbers with the Django ORM
   (one ``count()`` per indicator with correlated sub-queries, and the 规范管理 gaps walked in Python
   over each region's visits). At a million patients it would take hours, so it is timed over a
   sample of regions per level (``--orm-sample``; the province always) and extrapolated: for each
   level, the regions timed there × (the level's patients ÷ the timed regions' patients) plus the
   per-region overhead; ``orm_loop_extrapolated`` says whether it was, ``orm_loop_regions_timed`` how
   many regions were really run, ``orm_loop_timed_s`` how long that took, and ``orm_agree`` whether
   those regions' numbers equal the reference's.
5. Prints ONE JSON line: ``patients``, ``followups``, ``screenings``, ``engine_s``,
   ``engine_patient_s``, ``refresh_s``, ``reference_sql_s``, ``orm_loop_s``, ``ratio_vs_reference``
   (``engine_patient_s ÷ reference_sql_s``: the same numbers), ``orm_vs_engine`` (``orm_loop_s ÷
   engine_s``), ``peak_rss_mb``, ``agree``, ``disagreements`` (a few, when not), ``regions``
   (per level), ``rows``, ``database``, ``loadavg_1m``, ``built`` / ``build``.

Targets (issue 6), PostgreSQL, 1,000,000 patients and 10,000,000 follow-ups on 2 cores: ≤ 15 s,
≤ 1 GiB, ≤ 2× the reference, ≥ 50× faster than the ORM loop; SQLite figures at 100,000 patients.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.lookup import add_population_arguments, elsewhere, loadavg, log, population

NAME = "indicators"
REFERENCE_FILE = Path(__file__).resolve().parent / "indicators_reference.sql"

#: Region code column of each level (RegionLevel 1–4).
LEVEL_COLUMNS = {1: "province_code", 2: "city_code", 3: "county_code", 4: "township_code"}
COUNTS = ("registered", "managed", "standard", "face_to_face", "medication", "regular", "schizophrenia_managed",
          "schizophrenia_medication", "home_managed", "stable", "home", "rehab", "incident", "minor")
#: indicator → (numerator count, denominator count); prevalence's denominator is the population.
RATIOS: dict[str, tuple[str, str]] = {
    "prevalence": ("registered", "population"),
    "managed_rate": ("managed", "registered"),
    "standard_management_rate": ("standard", "registered"),
    "face_to_face_rate": ("face_to_face", "managed"),
    "medication_rate": ("medication", "registered"),
    "regular_medication_rate": ("regular", "registered"),
    "schizophrenia_medication_rate": ("schizophrenia_medication", "schizophrenia_managed"),
    "stable_rate": ("stable", "home_managed"),
    "community_rehab_rate": ("rehab", "home"),
    "incident_rate": ("incident", "registered"),
    "minor_trouble_rate": ("minor", "registered"),
}
#: Year and share registered of the synthetic resident-population figures.
POPULATION_YEAR = 2020
POPULATION_PREVALENCE = 0.0045

Pairs = dict[tuple[str, str], tuple[int, int | None]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``xinqiao bench indicators``."""
    add_population_arguments(parser)
    parser.add_argument("--period", default="2026Q3", help="the period computed (month, quarter or year key)")
    parser.add_argument("--screenings", type=int, default=None,
                        help="screening responses added to the population (default: one per two patients)")
    parser.add_argument("--orm-sample", type=int, default=4,
                        help="regions per level timed with the naive ORM loop (the rest is extrapolated; 0: all)")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of the engine and the reference (fastest)")
    parser.add_argument("--no-build", action="store_true",
                        help="only reuse a complete population; stop rather than build or remove one")


# --- The parameters of a period ---------------------------------------------------------------------

def parameters(period: Any) -> dict[str, Any]:
    """What the definitions say, for ``period``: the dates and codes the reference SQL binds."""
    from xinqiao.indicators import definitions
    from xinqiao.indicators.periods import year_window

    rules = definitions.catalogue().rules
    window_start, end = year_window(period)
    return {
        "start": period.start, "end": end, "window_start": window_start,
        # "within 92 days of E": E − last ≤ 92 (a visit exactly 92 days before E is recent).
        "recent_from": end - timedelta(days=rules["stable_recent_days"]),
        "min_visits": rules["standard_management"]["min_followups"],
        "max_gap": rules["standard_management"]["max_gap_days"],
        "in_hospital": rules["in_hospital_status"], "schizophrenia": rules["schizophrenia_diagnosis"],
        "stable": rules["stable_classification"],
        "off_register": list(rules["not_registered_statuses"]), "face_to_face": list(rules["face_to_face_methods"]),
        "medication": list(rules["medication_adherence"]), "regular": list(rules["regular_adherence"]),
    }


def _expand(sql: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Expand ``{name}`` list parameters to ``%(name_0)s, %(name_1)s …``; scalars stay named."""
    bound: dict[str, Any] = {}
    lists: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, list):
            lists[key] = ", ".join(f"%({key}_{i})s" for i in range(len(value)))
            bound.update({f"{key}_{i}": v for i, v in enumerate(value)})
        else:
            bound[key] = value
    for key, text in lists.items():
        sql = sql.replace("{" + key + "}", text)
    return sql, bound


def reference_sections() -> dict[str, str]:
    """The reference file's dialect sections (``-- @name`` lines start them)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in REFERENCE_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("-- @"):
            current = sections.setdefault(line[4:].strip(), [])
        elif current is not None:
            current.append(line)
    return {k: "\n".join(v).strip().rstrip(";") for k, v in sections.items()}


# --- Resident population (prevalence's denominator) ---------------------------------------------------

def population_figures(year: int) -> dict[str, int]:
    """Resident population (常住人口) of each region as of ``year``, as the definitions say: the
    region's own figure for the latest year ≤ ``year``; else the sum of its children's, but only
    when every child (every region under it in the code list) has one; regions without either are
    left out. Written here from the definition (a level-by-level walk in Python over the figures
    and the code list), not from the engine's SQL."""
    from django.db import connection

    from xinqiao.core.models import Region

    with connection.cursor() as cur:
        cur.execute(
            """SELECT region_id, value FROM registry_regionstatistic r
               WHERE measure = 'population' AND year = (
                   SELECT max(year) FROM registry_regionstatistic r2
                   WHERE r2.region_id = r.region_id AND r2.measure = 'population' AND r2.year <= %s)""",
            [year])
        own = {str(code): int(value) for code, value in cur.fetchall()}
    children: dict[str, list[str]] = defaultdict(list)
    levels: dict[int, list[str]] = defaultdict(list)
    for code, parent, level in Region.objects.values_list("code", "parent_id", "level").iterator(chunk_size=20_000):
        levels[level].append(code)
        if parent:
            children[parent].append(code)
    effective = {code: own[code] for code in levels[4] if code in own}
    for level in (3, 2, 1):
        for code in levels[level]:
            if code in own:
                effective[code] = own[code]
            elif children[code] and all(c in effective for c in children[code]):
                effective[code] = sum(effective[c] for c in children[code])
    return effective


def ensure_population_figures(prefix: str, region: str, progress: Callable[[str], None] = log) -> int:
    """One 常住人口 figure per township of ``region`` (idempotent; tagged ``bench:<prefix>``): about
    4.5‰ of it registered where the population has patients, a rural-township size elsewhere."""
    from django.db.models import Count

    from xinqiao.core.models import InRegion
    from xinqiao.patients.models import Patient
    from xinqiao.registry.models import RegionStatistic

    tag = f"bench:{prefix}"
    from xinqiao.core.models import Region

    patients = dict(Patient.objects.filter(submission_key__startswith=prefix).order_by()
                    .values_list("township_code").annotate(n=Count("id")).values_list("township_code", "n"))
    towns = {code: patients.get(code, 0) for code in
             Region.objects.filter(level=4, code__startswith=region).values_list("code", flat=True)}
    have = RegionStatistic.objects.filter(source=tag, measure="population", year=POPULATION_YEAR)
    if have.count() == len(towns):
        return len(towns)
    RegionStatistic.objects.filter(source=tag).delete()
    rng = random.Random(f"bench-population:{prefix}")
    rows = []
    for code, n in sorted(towns.items()):
        value = round((n / POPULATION_PREVALENCE if n else 25_000) * rng.uniform(0.8, 1.25)) + 1000
        rows.append(RegionStatistic(region_id=code, year=POPULATION_YEAR, measure="population", value=value,
                                    source=tag, **InRegion.region_columns(code)))
    RegionStatistic.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    progress(f"{len(rows)} township population figures ({tag})")
    return len(rows)


# --- The reference -----------------------------------------------------------------------------------

def reference_counts(period: Any) -> dict[str, dict[str, int]]:
    """``{region: {count name: value}}`` from the reference SQL."""
    from django.db import connection, transaction

    sections = reference_sections()
    params = parameters(period)
    out: dict[str, dict[str, int]] = {}
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            sql, bound = _expand(sections["postgresql"], params)
            cur.execute(sql, bound)
            rows = cur.fetchall()
        else:
            sql, bound = _expand(sections["sqlite"], params)
            cur.execute("DROP TABLE IF EXISTS bench_reference_facts")
            cur.execute(sql, bound)
            rows = []
            for column in LEVEL_COLUMNS.values():
                cur.execute(sections["sqlite-select"].replace("{level}", column))
                rows += cur.fetchall()
            cur.execute("DROP TABLE bench_reference_facts")
    for region, *values in rows:
        if region:
            out[str(region)] = {name: int(v or 0) for name, v in zip(COUNTS, values, strict=True)}
    return out


def to_pairs(counts: dict[str, dict[str, int]], population: dict[str, int]) -> Pairs:
    """``{(indicator, region): (numerator, denominator)}`` from per-region counts."""
    pairs: Pairs = {}
    for region, c in counts.items():
        for code, (num, den) in RATIOS.items():
            pairs[(code, region)] = (c[num], population.get(region) if den == "population" else c[den])
    for region, people in population.items():
        pairs.setdefault(("prevalence", region), (0, people))
    return pairs


def _normal(value: tuple[int, int | None] | None) -> tuple[int, int]:
    if value is None:
        return (0, 0)
    return (int(value[0]), int(value[1] or 0))


def compare(engine: Pairs, reference: Pairs, codes: Iterable[str]) -> list[dict[str, Any]]:
    """The (indicator, region) pairs where the two differ (missing = 0 ÷ 0)."""
    wanted = set(codes)
    keys = {k for k in (*engine, *reference) if k[0] in wanted}
    return [{"indicator": k[0], "region": k[1], "engine": engine.get(k), "reference": reference.get(k)}
            for k in sorted(keys) if _normal(engine.get(k)) != _normal(reference.get(k))]


# --- The naive ORM loop --------------------------------------------------------------------------------

def orm_region(level: int, code: str, params: dict[str, Any]) -> dict[str, int]:
    """The counts of one region, the way a first Django implementation would: querysets per count."""
    from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
    from django.db.models.functions import Coalesce

    from xinqiao.followups.models import FollowUp
    from xinqiao.patients.models import Patient, PersonalSupplement, StatusChange

    end, w0 = params["end"], params["window_start"]
    last_status = (StatusChange.objects.filter(patient=OuterRef("pk"), changed_on__lte=end)
                   .order_by("-changed_on", "-id").values("to_status")[:1])
    visits = FollowUp.objects.filter(patient=OuterRef("pk"), outcome="visited", followup_date__gte=w0,
                                     followup_date__lte=end)
    last_visit = visits.order_by("-followup_date", "-id")
    status_now = Case(When(Q(status_changed_on__isnull=True) | Q(status_changed_on__lte=end), then=F("status")),
                      default=Value("managed"))
    registered = (Patient.objects.filter(**{LEVEL_COLUMNS[level]: code}, registered_on__lte=end)
                  .annotate(status_at_end=Coalesce(Subquery(last_status), status_now))
                  .exclude(status_at_end__in=params["off_register"]))
    in_hospital = Q(status_at_end=params["in_hospital"])
    annotated = registered.annotate(
        visited=Exists(visits), face=Exists(visits.filter(method__in=params["face_to_face"])),
        last_adherence=Subquery(last_visit.values("adherence")[:1]),
        last_class=Subquery(last_visit.values("classification")[:1]),
        last_date=Subquery(last_visit.values("followup_date")[:1]),
        rehab=Exists(PersonalSupplement.objects.filter(patient=OuterRef("pk"), community_rehab=True)),
        incident=Exists(FollowUp.objects.filter(patient=OuterRef("pk"), outcome="visited",
                                                followup_date__gte=params["start"],
                                                followup_date__lte=end)
                        .filter(Q(trouble_count__gt=0) | Q(disaster_count__gt=0))),
        minor=Exists(FollowUp.objects.filter(patient=OuterRef("pk"), outcome="visited",
                                             followup_date__gte=params["start"],
                                             followup_date__lte=end, minor_trouble_count__gt=0)),
    )
    managed = annotated.filter(Q(visited=True) | in_hospital)
    medication = Q(last_adherence__in=params["medication"]) | in_hospital
    home = annotated.exclude(in_hospital)
    home_managed = home.filter(visited=True)
    out = {
        "registered": annotated.count(),
        "managed": managed.count(),
        "face_to_face": managed.filter(face=True).count(),
        "medication": annotated.filter(medication).count(),
        "regular": annotated.filter(last_adherence__in=params["regular"]).count(),
        "schizophrenia_managed": managed.filter(diagnosis=params["schizophrenia"]).count(),
        "schizophrenia_medication": managed.filter(medication, diagnosis=params["schizophrenia"]).count(),
        "home_managed": home_managed.count(),
        "stable": home_managed.filter(last_date__gte=params["recent_from"], last_class=params["stable"]).count(),
        "home": home.count(),
        "rehab": home.filter(rehab=True).count(),
        "incident": annotated.filter(incident=True).count(),
        "minor": annotated.filter(minor=True).count(),
    }
    # 规范管理: each registered patient's visits of the window, walked in Python.
    standard = 0
    max_gap, minimum = params["max_gap"], params["min_visits"]
    current: int | None = None
    dates: list[date] = []
    clock: dict[int, date] = {}

    def done(pid: int | None) -> int:
        if pid is None or len(dates) < minimum:
            return 0
        points = [max(clock[pid], w0), *dates, end]
        return int(all((b - a).days <= max_gap for a, b in itertools.pairwise(points)))

    for pid, registered_on in registered.values_list("id", "registered_on").iterator(chunk_size=5000):
        clock[pid] = registered_on
    rows = (FollowUp.objects.filter(patient__in=registered.values("id"), outcome="visited", followup_date__gte=w0,
                                    followup_date__lte=end)
            .order_by("patient_id", "followup_date", "id").values_list("patient_id", "followup_date"))
    for pid, day in rows.iterator(chunk_size=5000):
        if pid != current:
            standard += done(current)
            current, dates = pid, []
        dates.append(day)
    standard += done(current)
    out["standard"] = standard
    return out


def orm_loop(reference: dict[str, dict[str, int]], params: dict[str, Any], sample: int,
             seed: int) -> dict[str, Any]:
    """Time the ORM loop over a sample of regions per level; extrapolate to every region."""
    from xinqiao.core.regions_data import level_of

    by_level: dict[int, list[str]] = defaultdict(list)
    for region in reference:
        by_level[level_of(region)].append(region)
    rng = random.Random(seed)
    total = timed = 0.0
    timed_regions = 0
    agree = True
    extrapolated = False
    per_level: dict[str, Any] = {}
    for level in sorted(by_level):
        regions = sorted(by_level[level])
        chosen = regions if sample <= 0 or len(regions) <= sample else sorted(rng.sample(regions, sample))
        seconds = 0.0
        patients = 0
        for region in chosen:
            t = time.perf_counter()
            counts = orm_region(level, region, params)
            seconds += time.perf_counter() - t
            patients += reference[region]["registered"]
            agree = agree and counts == reference[region]
        level_patients = sum(reference[r]["registered"] for r in regions)
        # Scale by patients (a region's cost grows with its register), not by region count.
        estimate = seconds if len(chosen) == len(regions) else seconds * level_patients / max(patients, 1)
        extrapolated = extrapolated or len(chosen) < len(regions)
        per_level[str(level)] = {"regions": len(regions), "timed": len(chosen), "timed_s": round(seconds, 2),
                                 "estimate_s": round(estimate, 1)}
        total += estimate
        timed += seconds
        timed_regions += len(chosen)
    return {"orm_loop_s": round(total, 1), "orm_loop_timed_s": round(timed, 1),
            "orm_loop_regions_timed": timed_regions, "orm_loop_extrapolated": extrapolated, "orm_agree": agree,
            "orm_loop_levels": per_level}


# --- The benchmark -------------------------------------------------------------------------------------

def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _guard(options: dict[str, Any]) -> None:
    """Never build over, or remove, a population that is only partly there (another session may be
    building it); with ``--no-build``, require the complete population."""
    from xinqiao.patients import synth

    prefix = synth.bench_prefix(options["patients"], options["seed"])
    if synth.population_complete(prefix, options["patients"]):
        return
    present = synth.population_size(prefix)
    if present:
        raise RuntimeError(f"population {prefix} is only partly there ({present} of {options['patients']} "
                           "patients): a build is in progress or was interrupted; not touching it")
    if options.get("no_build"):
        raise RuntimeError(f"population {prefix} is not there and --no-build was given")


def run(**options: Any) -> dict[str, Any]:
    """Build or reuse the population, time engine, reference and ORM loop, return the figures."""
    other = elsewhere(NAME, options)
    if other is not None:
        return other
    from django.db import connection

    from xinqiao.indicators import definitions, engine
    from xinqiao.indicators.periods import parse
    from xinqiao.screening import synth as screening_synth

    period = parse(options["period"])
    _guard(options)
    pop, about = population(options)
    wanted = options["screenings"] if options.get("screenings") is not None else pop.patients // 2
    screening_synth.ensure_screenings(max(0, wanted), population_prefix=pop.prefix, seed=options["seed"],
                                      region=options["region"], years=options["years"], progress=log)
    about["screenings"] = screening_synth.screenings_of(pop.prefix).count()
    ensure_population_figures(pop.prefix, options["region"])
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE registry_regionstatistic")

    patient_codes = [i.code for i in definitions.patient_indicators()]
    params = parameters(period)
    repeat = max(1, options.get("repeat") or 1)
    engine_times: list[float] = []
    patient_times: list[float] = []
    reference_times: list[float] = []
    engine_pairs: Pairs = {}
    counts: dict[str, dict[str, int]] = {}
    figures: dict[str, int] = {}
    log(f"timing {period.key}: engine (all, patient) and reference, {repeat}× each")
    for _ in range(repeat):
        t = time.perf_counter()
        counts = reference_counts(period)
        figures = population_figures(period.year)
        reference_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        engine.calculate(period, patient_codes)
        patient_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        engine_pairs = engine.calculate(period)
        engine_times.append(time.perf_counter() - t)
    t = time.perf_counter()
    run_record = engine.refresh(period, trigger="command")
    refresh_s = time.perf_counter() - t
    peak = _rss_mb()
    reference = to_pairs(counts, figures)
    differences = compare(engine_pairs, reference, patient_codes)
    log(f"engine {min(engine_times):.2f}s, reference {min(reference_times):.2f}s, "
        f"{len(differences)} disagreements; ORM loop next")
    orm = orm_loop(counts, params, options.get("orm_sample", 4), options["seed"])
    from xinqiao.core.regions_data import level_of

    levels: dict[str, int] = defaultdict(int)
    for region in counts:
        levels[str(level_of(region))] += 1
    engine_s, patient_s, reference_s = min(engine_times), min(patient_times), min(reference_times)
    return _finish(NAME, about, period, engine_s, patient_s, refresh_s, reference_s, orm, peak, differences, engine,
                   run_record, levels, engine_times, patient_times, reference_times)


def _finish(name: str, about: dict[str, Any], period: Any, engine_s: float, patient_s: float, refresh_s: float,
            reference_s: float, orm: dict[str, Any], peak: float, differences: list[dict[str, Any]], engine: Any,
            run_record: Any, levels: dict[str, int], engine_times: list[float], patient_times: list[float],
            reference_times: list[float]) -> dict[str, Any]:
    orm_s = orm.pop("orm_loop_s")
    return {
        "benchmark": name, **about, "period": period.key,
        "engine_s": round(engine_s, 3), "engine_patient_s": round(patient_s, 3), "refresh_s": round(refresh_s, 3),
        "reference_sql_s": round(reference_s, 3), "orm_loop_s": orm_s,
        "ratio_vs_reference": round(patient_s / reference_s, 2) if reference_s else None,
        "orm_vs_engine": round(orm_s / engine_s, 1) if engine_s else None, **orm,
        "peak_rss_mb": peak, "agree": not differences, "disagreement_count": len(differences),
        "disagreements": differences[:5], "indicators": len(engine.calculable_codes()), "rows": run_record.rows,
        "regions": dict(levels),
        "runs": {"engine_s": [round(x, 3) for x in engine_times],
                 "engine_patient_s": [round(x, 3) for x in patient_times],
                 "reference_sql_s": [round(x, 3) for x in reference_times]},
        "loadavg_1m": loadavg(),
    }
