"""The indicator engine: registered set-based calculators, stored results, incremental refresh.

A *calculator* (``@calculator("code", …)``) computes some indicators for one period and returns one
row ``(code, region code, level, numerator, denominator)`` for every region at every level it
covers, in a handful of SQL statements (``patient_sql.py`` for the register, ``service_sql.py`` for
the service network). ``calculate()`` runs them; ``refresh()`` stores the rows for a period,
replacing that period's rows for those indicators in one transaction (``bulk_create``), and records
an ``IndicatorRun``.

Incremental refresh: a run stores a *fingerprint* of its source tables (row counts, highest ids,
latest change timestamps, sums over the re-pointable foreign keys, and the definitions file). With
``incremental=True`` a period is skipped when its last successful run covered the same indicators
and the fingerprint has not changed since; the skip is itself recorded (``IndicatorRun.skipped``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from xinqiao.core.models import InRegion
from xinqiao.core.regions_data import level_of
from xinqiao.indicators import definitions
from xinqiao.indicators.models import IndicatorResult, IndicatorRun
from xinqiao.indicators.periods import Period

#: (indicator code, region code, level, numerator, denominator)
Row = tuple[str, str, int, int, int | None]
Calculator = Callable[[Period, set[str]], Iterable[Row]]

_CALCULATORS: list[tuple[frozenset[str], Calculator]] = []
_LOADED = False


def calculator(*codes: str) -> Callable[[Calculator], Calculator]:
    """Register ``fn(period, codes) -> rows`` as the calculator of ``codes``."""
    def register(fn: Calculator) -> Calculator:
        for code in codes:
            definitions.get(code)  # KeyError for a code that is not defined
        _CALCULATORS.append((frozenset(codes), fn))
        return fn
    return register


def _load() -> None:
    """Import the calculator modules once (they register themselves)."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    from xinqiao.indicators import patient_sql  # noqa: F401
    try:
        from xinqiao.indicators import service_sql  # noqa: F401
    except ImportError:  # the service indicators are not built yet
        pass


def calculable_codes() -> tuple[str, ...]:
    """Codes that have a calculator, in definition order."""
    _load()
    known = set().union(*(codes for codes, _ in _CALCULATORS)) if _CALCULATORS else set()
    return tuple(ind.code for ind in definitions.all_indicators() if ind.code in known)


def _wanted(codes: Iterable[str] | None) -> set[str]:
    available = set(calculable_codes())
    if codes is None:
        return available
    wanted = set(codes)
    for code in wanted:
        definitions.get(code)  # KeyError names the unknown code
    missing = wanted - available
    if missing:
        raise KeyError(sorted(missing)[0])
    return wanted


def rows(period: Period, codes: Iterable[str] | None = None) -> list[Row]:
    """Every row of the requested indicators for ``period`` (all regions, the levels each covers)."""
    _load()
    wanted = _wanted(codes)
    out: list[Row] = []
    for covered, fn in _CALCULATORS:
        asked = wanted & covered
        if not asked:
            continue
        for row in fn(period, set(asked)):
            if row[0] in asked and row[2] in definitions.get(row[0]).levels:
                out.append(row)
    return out


def calculate(period: Period, codes: Iterable[str] | None = None) -> dict[tuple[str, str], tuple[int, int | None]]:
    """``{(code, region code): (numerator, denominator)}`` for ``period``, computed now (not stored)."""
    return {(code, region): (num, den) for code, region, _level, num, den in rows(period, codes)}


# --- Fingerprint of the source tables -------------------------------------------------------------

def _aggregate(model: Any, **aggregates: Any) -> list[Any]:
    values = model.objects.aggregate(**aggregates)
    return [str(values[key]) for key in sorted(values)]


def fingerprint() -> str:
    """A digest of what the indicators read: it changes when a source row is added, removed or edited
    through the services (which stamp ``updated_at``), or moved to another patient (merges)."""
    from xinqiao.followups.models import FollowUp
    from xinqiao.patients.models import Patient, PersonalSupplement, StatusChange
    from xinqiao.registry.models import RegionStatistic

    parts: list[str] = []
    parts += _aggregate(Patient, n=Count("id"), i=Max("id"), u=Max("updated_at"), s=Sum("status_changed_on__year"))
    parts += _aggregate(StatusChange, n=Count("id"), i=Max("id"), c=Max("created_at"), p=Sum("patient_id"))
    parts += _aggregate(FollowUp, n=Count("id"), i=Max("id"), c=Max("created_at"), p=Sum("patient_id"))
    parts += _aggregate(PersonalSupplement, n=Count("id"), i=Max("id"), u=Max("updated_at"), p=Sum("patient_id"))
    parts += _aggregate(RegionStatistic, n=Count("id"), i=Max("id"), v=Sum("value"), y=Sum("year"))
    parts.append(hashlib.sha256(definitions.DATA_FILE.read_bytes()).hexdigest())
    try:
        from xinqiao.indicators import service_sql
        extra = getattr(service_sql, "fingerprint_parts", None)
        if extra is not None:
            parts += [str(p) for p in extra()]
    except ImportError:
        pass
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _up_to_date(period: Period, codes: set[str], digest: str) -> bool:
    last = (IndicatorRun.objects.filter(period=period.key, error="", finished_at__isnull=False, skipped=False)
            .order_by("-started_at", "-id").first())
    if last is None or not codes <= set(last.indicators):
        return False
    return last.fingerprint == digest and IndicatorResult.objects.filter(period=period.key).exists()


# --- Stored results --------------------------------------------------------------------------------

def _result(period: Period, row: Row, now: Any) -> IndicatorResult:
    code, region, level, num, den = row
    ind = definitions.get(code)
    return IndicatorResult(
        indicator=code, level=level, period=period.key, period_type=period.type, period_start=period.start,
        period_end=period.end, numerator=num, denominator=den, value=ind.value(num, den), computed_at=now,
        region_id=region, **InRegion.region_columns(region),
    )


def refresh(period: Period, *, codes: Iterable[str] | None = None, trigger: str = "command", user: Any = None,
            incremental: bool = False) -> IndicatorRun:
    """Compute and store ``period``'s indicators (all, or ``codes``); return the recorded run.

    The period's rows of those indicators are deleted and re-inserted in one transaction, so a
    reader sees either the old or the new set. With ``incremental`` the computation is skipped
    when nothing it reads has changed since the last successful run of the period.
    """
    wanted = _wanted(codes)
    started = timezone.now()
    clock = time.perf_counter()
    digest = fingerprint()
    run = IndicatorRun(period=period.key, trigger=trigger, incremental=incremental, started_at=started,
                       indicators=sorted(wanted), requested_by=user if getattr(user, "pk", None) else None,
                       fingerprint=digest)
    if incremental and _up_to_date(period, wanted, digest):
        run.skipped = True
        run.finished_at = timezone.now()
        run.duration_s = time.perf_counter() - clock
        run.save()
        return run
    try:
        computed = rows(period, wanted)
        now = timezone.now()
        objects = [_result(period, row, now) for row in computed]
        with transaction.atomic():
            IndicatorResult.objects.filter(period=period.key, indicator__in=wanted).delete()
            IndicatorResult.objects.bulk_create(objects, batch_size=2000)
    except Exception as exc:
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        run.finished_at = timezone.now()
        run.duration_s = time.perf_counter() - clock
        run.save()
        raise
    run.rows = len(objects)
    run.finished_at = timezone.now()
    run.duration_s = time.perf_counter() - clock
    run.save()
    return run


def vendor() -> str:
    """``postgresql`` or ``sqlite`` (the SQL dialect the calculators write)."""
    return connection.vendor


def level(code: str) -> int:
    """The RegionLevel of a region code (from its length)."""
    return level_of(code)
