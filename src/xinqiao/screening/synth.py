"""Synthetic screening responses (PHQ-9, GAD-7 … self-screenings) for a synthetic population.

``xinqiao synth --screenings N`` and the indicator benchmark (``bench/indicators.py``) add ``N``
anonymous screening responses to a region, as the public self-screening page and the API would
have stored them: each response answers one of the shipped scales (``screening/instruments``),
is **scored by the real engine** (``screening.rules.score``: total, standard score, band,
positive, subscales, alerts, risk) and stored in ``screening_screeningresponse`` with its region
(a township of the region, weighted like the patients' townships) and the denormalised code
columns, a submission time within ``years`` before ``today`` and a fingerprint computed as
``screening.services.submission_fingerprint`` does. No identity, no campaign (campaign
responses open alert tasks and audit events: those come from the real service, not from here).

Respondents: most answer with little distress, some with moderate, a few with severe distress
(so that a realistic share is positive and a few raise the suicide-risk alert); skip logic
(C-SSRS) is respected. Deterministic for the seed: responses are generated in fixed chunks of
:data:`CHUNK`, one RNG per ``(seed, chunk)``; the township weights come from the seed.

Loading uses the same machinery as the patients (``patients.synth.Table``): ``COPY … FROM STDIN``
on PostgreSQL (secondary indexes dropped and rebuilt from :data:`FAST_LOAD_FROM` responses),
``executemany`` elsewhere. Every response carries ``submission_key = <key prefix>s<index>`` (the
population's prefix, e.g. ``bench:1:1000000:s17``), which is how :func:`ensure_screenings`
recognises a complete set and :func:`clear_screenings` removes one; the patients of the
population are never touched.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from xinqiao.patients.synth import cumulative_weights
from xinqiao.screening import rules
from xinqiao.screening.instruments import load
from xinqiao.screening.models import ScreeningResponse, Source

#: Responses per generation chunk. Fixed: the RNG is per chunk, so changing it changes the data.
CHUNK = 2000
#: Chunks per transaction.
CHUNKS_PER_BATCH = 10
#: From this many responses on PostgreSQL, drop the table's secondary indexes for the load.
FAST_LOAD_FROM = 200_000

#: Which scales people take (public self-screening is mostly PHQ-9 and GAD-7).
INSTRUMENT_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("phq9", 0.34), ("gad7", 0.24), ("phq2", 0.07), ("gad2", 0.06), ("k10", 0.05), ("who5", 0.05),
    ("sds", 0.04), ("sas", 0.04), ("epds", 0.03), ("gds15", 0.03), ("ad8", 0.02), ("pcl5", 0.02),
    ("cssrs", 0.01),
)
#: (share of respondents, distress 0..1): how far up the options their answers go.
DISTRESS: tuple[tuple[float, float], ...] = ((0.65, 0.15), (0.25, 0.5), (0.10, 0.85))
#: Where responses come from (public page or a partner's API); campaign responses are not generated.
SOURCE_WEIGHTS: tuple[tuple[str, float], ...] = ((Source.PUBLIC, 0.7), (Source.API, 0.3))

COLUMNS = (
    "region_id", "province_code", "city_code", "county_code", "township_code", "source", "instrument",
    "instrument_version", "answers", "total", "standard_score", "band", "positive", "subscales", "alerts", "risk",
    "submission_key", "submission_fingerprint", "submitted_at",
)

NULL = "\\N"


_INST_VALUES, _INST_CUM = cumulative_weights(INSTRUMENT_WEIGHTS)
_SOURCE_VALUES, _SOURCE_CUM = cumulative_weights(SOURCE_WEIGHTS)


def _pick(rng: random.Random, values: list[Any], cum: list[float]) -> Any:
    return values[min(bisect.bisect(cum, rng.random() * cum[-1]), len(values) - 1)]


def _distress(rng: random.Random) -> float:
    x, acc = rng.random(), 0.0
    for share, level in DISTRESS:
        acc += share
        if x < acc:
            return level
    return DISTRESS[-1][1]


@lru_cache(maxsize=32)
def _item_orders(instrument_id: str) -> tuple[tuple[Any, int, tuple[int, ...]], ...]:
    """Per item: the item, its last option index, option indexes from fewest to most points."""
    inst = load(instrument_id)
    return tuple((item, len(item.options) - 1, _by_points(item.points)) for item in inst.items)


def _by_points(points: Sequence[int]) -> tuple[int, ...]:
    """Option indexes from fewest to most points (reverse items come out reversed)."""
    return tuple(sorted(range(len(points)), key=lambda i: (points[i], i)))


def answers_for(rng: random.Random, instrument_id: str, distress: float) -> list[int | None]:
    """Plausible answers to one scale (0-based option indexes; ``None`` where skip logic skips).

    The points scored rise with ``distress`` (reverse items handled through the points each option
    scores), so a distressed respondent scores high on every scale; WHO-5, worded positively, is
    turned round by hand: a distressed respondent reports little well-being.
    """
    orders = _item_orders(instrument_id)
    out: list[int | None] = []
    padding: list[int | None] = [None] * len(orders)
    for item, top, ranked in orders:
        if item.enable_when is not None and not rules.is_enabled(item, out + padding[len(out):]):
            out.append(None)
            continue
        index = ranked[min(top, int(rng.random() * (top + 1) * distress + rng.random() * 0.6))]
        out.append(top - index if instrument_id == "who5" else index)
    return out


def fingerprint(instrument_id: str, answers: list[int | None], region_code: str) -> str:
    """``screening.services.submission_fingerprint`` of an anonymous submission without a group."""
    body = [instrument_id, answers, region_code, None, "", ""]
    return hashlib.sha256(json.dumps(body, ensure_ascii=False).encode()).hexdigest()[:16]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _escape(text: str) -> str:
    """COPY text escaping for JSON values (backslashes; JSON has no raw tabs or newlines)."""
    return text.replace("\\", "\\\\")


@dataclass(frozen=True)
class ScreeningPlan:
    """What to generate: ``n`` responses for ``prefix`` over ``towns`` (code, weight, ancestors)."""

    n: int
    seed: int
    prefix: str
    today: date
    years: int
    towns: tuple[tuple[str, str, str, str], ...]  # (township, province, city, county)
    town_cum: tuple[float, ...]


def make_plan(n: int, *, seed: int, prefix: str, region: str, today: date | None = None,
              years: int = 3) -> ScreeningPlan:
    """Townships of ``region`` weighted log-normally (sub-districts larger), from the seed."""
    from xinqiao.patients.synth import region_townships

    towns = region_townships(region) if len(region) < 9 else []
    if not towns:
        from xinqiao.core.models import Region

        towns = list(Region.objects.filter(code=region))
    if not towns:
        raise ValueError(f"no townships under region {region!r}: load the regions (migrate) first")
    rng = random.Random(f"xinqiao-synth-screening-plan:{seed}")  # noqa: S311 (fictitious data)
    cum, acc = [], 0.0
    for t in towns:
        acc += rng.lognormvariate(0, 0.6) * (1.6 if "街道" in t.name else 1.0)
        cum.append(acc)
    return ScreeningPlan(
        n=n, seed=seed, prefix=prefix, today=today or timezone.localdate(), years=years,
        towns=tuple((t.code, t.province_code, t.city_code, t.county_code) for t in towns), town_cum=tuple(cum),
    )


def generate_chunk(plan: ScreeningPlan, chunk_no: int) -> list[str]:
    """The COPY text lines (``COLUMNS`` order) of one chunk. Pure: no database access."""
    rng = random.Random(f"xinqiao-synth-screening:{plan.seed}:{chunk_no}")  # noqa: S311
    first = chunk_no * CHUNK
    last = min(first + CHUNK, plan.n)
    span = plan.years * 365 * 86400
    end = datetime(plan.today.year, plan.today.month, plan.today.day, 16, 0, tzinfo=UTC)  # 24:00 Beijing
    total = plan.town_cum[-1]
    lines: list[str] = []
    for i in range(first, last):
        town = plan.towns[min(bisect.bisect(plan.town_cum, rng.random() * total), len(plan.towns) - 1)]
        instrument_id = _pick(rng, _INST_VALUES, _INST_CUM)
        source = _pick(rng, _SOURCE_VALUES, _SOURCE_CUM)
        answers = answers_for(rng, instrument_id, _distress(rng))
        result = rules.score(load(instrument_id), answers)
        submitted = end - timedelta(seconds=rng.randrange(1, span))
        lines.append("\t".join((
            town[0], town[1], town[2], town[3], town[0], source, result.instrument, result.version,
            _escape(_json(answers)), NULL if result.total is None else str(result.total),
            NULL if result.standard_score is None else str(result.standard_score), result.band,
            "1" if result.positive else "0", _escape(_json(dict(result.subscales))), _escape(_json(list(result.alerts))),
            result.risk or "", f"{plan.prefix}{i}", fingerprint(instrument_id, answers, town[0]),
            submitted.strftime("%Y-%m-%d %H:%M:%S+00:00"),
        )))
    return lines


def chunks(plan: ScreeningPlan) -> Iterator[list[str]]:
    """Every chunk's lines, in order."""
    for c in range((plan.n + CHUNK - 1) // CHUNK):
        yield generate_chunk(plan, c)


def _log(message: str) -> None:
    print(f"[synth] {message}", file=sys.stderr, flush=True)


def _write(table: Any, lines: list[str]) -> None:
    """One transaction: the lines plus the table's constant columns (its model's defaults)."""
    pg = connection.vendor == "postgresql"
    if table.suffix:
        lines = [line + table.suffix for line in lines]
    with transaction.atomic():
        if pg:
            with connection.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit TO off")
            raw = connection.connection
            with raw.cursor() as cur, cur.copy(table.copy_sql()) as copy:
                for start in range(0, len(lines), 20_000):
                    copy.write(("\n".join(lines[start:start + 20_000]) + "\n").encode("utf-8"))
        else:
            rows = []
            for line in lines:
                values = [None if v == NULL else v.replace("\\\\", "\\") for v in line.split("\t")]
                at = len(COLUMNS) - 1  # submitted_at: Django keeps naive UTC text in SQLite
                values[at] = str(values[at])[:19]
                rows.append(tuple(values))
            with connection.cursor() as cur:
                cur.executemany(table.insert_sql(), rows)


def build(plan: ScreeningPlan, *, indexes: str = "auto", progress: Callable[[str], None] = _log) -> dict[str, Any]:
    """Generate and load ``plan``'s responses; returns counts and timings."""
    from xinqiao.patients.synth import FastLoad, Table

    started = time.perf_counter()
    table = Table(ScreeningResponse, COLUMNS, timezone.now().isoformat())
    fast = None
    if connection.vendor == "postgresql" and (
            indexes == "drop" or (indexes == "auto" and plan.n >= FAST_LOAD_FROM)):
        fast = FastLoad([table.name], progress)
        fast.drop()
    done = 0
    batch: list[str] = []
    last_report = time.perf_counter()
    try:
        for lines in chunks(plan):
            batch += lines
            if len(batch) >= CHUNK * CHUNKS_PER_BATCH:
                _write(table, batch)
                done += len(batch)
                batch = []
                if time.perf_counter() - last_report > 15:
                    last_report = time.perf_counter()
                    progress(f"{done}/{plan.n} screening responses")
        if batch:
            _write(table, batch)
            done += len(batch)
    finally:
        load_s = time.perf_counter() - started
        if fast is not None:
            fast.restore()
    if connection.vendor == "postgresql" and plan.n >= 20_000:
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {connection.ops.quote_name(table.name)}")
    seconds = time.perf_counter() - started
    progress(f"done: {done} screening responses in {seconds:.1f}s")
    return {"screenings": done, "seconds": round(seconds, 2), "load_s": round(load_s, 2),
            "per_s": round(done / load_s) if load_s else None}


def key_prefix(population_prefix: str) -> str:
    """``submission_key`` prefix of a population's screening responses."""
    return f"{population_prefix}s"


def screenings_of(population_prefix: str) -> Any:
    """The responses generated for a population (by key prefix)."""
    return ScreeningResponse.objects.filter(submission_key__startswith=key_prefix(population_prefix))


def clear_screenings(population_prefix: str) -> int:
    """Delete a population's generated responses (set-based); the number deleted.

    Generated responses have no alert tasks or actions (they are anonymous, without a campaign).
    """
    if not population_prefix:
        raise ValueError("a population prefix is required")
    qs = screenings_of(population_prefix)
    count = qs.count()
    qs._raw_delete(qs.db)
    return count


def complete(population_prefix: str, n: int) -> bool:
    """Whether exactly ``n`` responses of the population are there, the last one included."""
    if n == 0:
        return not screenings_of(population_prefix).exists()
    return (ScreeningResponse.objects.filter(submission_key=f"{key_prefix(population_prefix)}{n - 1}").exists()
            and screenings_of(population_prefix).count() == n)


def ensure_screenings(n: int, *, population_prefix: str, seed: int, region: str, today: date | None = None,
                      years: int = 3, progress: Callable[[str], None] = _log) -> dict[str, Any] | None:
    """``n`` responses for the population: reused when complete, else (re)built. Idempotent.

    Only ``screening_screeningresponse`` rows whose key starts with the population's prefix are
    written or deleted: the patients, their follow-ups and the population's reuse check are not
    touched. Returns the build report, ``None`` when reused.
    """
    if complete(population_prefix, n):
        progress(f"reusing {n} screening responses of {population_prefix}")
        return None
    removed = clear_screenings(population_prefix)
    if removed:
        progress(f"removed {removed} incomplete screening responses of {population_prefix}")
    if n == 0:
        return {"screenings": 0, "seconds": 0.0}
    plan = make_plan(n, seed=seed, prefix=key_prefix(population_prefix), region=region, today=today, years=years)
    return build(plan, progress=progress)
