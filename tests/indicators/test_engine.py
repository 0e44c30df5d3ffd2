"""The engine: stored rows for every region and level, replaced per period, runs recorded, incremental."""

from __future__ import annotations

from datetime import date

import pytest

from tests.indicators.factories import followup, patient, supplement
from xinqiao.core.models import Region
from xinqiao.indicators import definitions, engine
from xinqiao.indicators.models import IndicatorResult, IndicatorRun
from xinqiao.indicators.periods import parse

pytestmark = pytest.mark.django_db

CODES = [i.code for i in definitions.patient_indicators()]
Q3 = parse("2026Q3")


@pytest.fixture
def register(towns: list[Region]) -> list:
    a, b = towns
    p1, p2 = patient(a), patient(b)
    followup(p1, date(2026, 8, 1))
    return [p1, p2]


def test_refresh_stores_every_region_and_level(register: list, towns: list[Region]) -> None:
    run = engine.refresh(Q3, codes=CODES)
    rows = IndicatorResult.objects.filter(period="2026Q3", indicator="managed_rate")
    a, b = towns
    assert {(r.region_id, r.level) for r in rows} == {
        (a.code, 4), (b.code, 4), (a.county_code, 3), (b.county_code, 3), (a.city_code, 2), (a.province_code, 1)}
    city = rows.get(region_id=a.city_code)
    assert (city.numerator, city.denominator, city.value) == (1, 2, pytest.approx(50.0))
    assert (city.period_type, city.period_start, city.period_end) == ("quarter", date(2026, 7, 1), date(2026, 9, 30))
    assert city.county_code == "" and city.city_code == a.city_code and city.province_code == a.province_code
    assert run.rows == IndicatorResult.objects.count() and run.error == "" and not run.skipped
    assert run.finished_at is not None and run.indicators == sorted(CODES)


def test_refresh_replaces_the_period_rows_of_those_codes_only(register: list, towns: list[Region]) -> None:
    engine.refresh(Q3, codes=CODES)
    engine.refresh(parse("2026Q2"), codes=["managed_rate"])
    followup(register[1], date(2026, 9, 1))
    engine.refresh(Q3, codes=["managed_rate"])
    city = IndicatorResult.objects.get(period="2026Q3", indicator="managed_rate", region_id=towns[0].city_code)
    assert city.numerator == 2
    stale = IndicatorResult.objects.get(period="2026Q3", indicator="face_to_face_rate", region_id=towns[0].city_code)
    assert stale.numerator == 1                      # not asked: untouched
    assert IndicatorResult.objects.filter(period="2026Q2").exists()
    assert IndicatorResult.objects.filter(period="2026Q3", indicator="managed_rate").count() == 6


def test_incremental_skips_only_when_nothing_changed(register: list, towns: list[Region]) -> None:
    first = engine.refresh(Q3, codes=CODES, incremental=True)
    assert not first.skipped and first.rows
    again = engine.refresh(Q3, codes=CODES, incremental=True)
    assert again.skipped and again.rows == 0 and again.fingerprint == first.fingerprint
    assert engine.refresh(Q3, codes=["managed_rate"], incremental=True).skipped   # a subset of what ran
    # A new follow-up, a supplement edit, a status change: each makes the next run compute.
    followup(register[1], date(2026, 9, 1))
    changed = engine.refresh(Q3, codes=CODES, incremental=True)
    assert not changed.skipped
    supplement(register[0], community_rehab=True)
    assert not engine.refresh(Q3, codes=CODES, incremental=True).skipped
    assert engine.refresh(Q3, codes=CODES, incremental=True).skipped
    p = register[0]
    p.danger_level = 3
    p.save()                                          # updated_at moves
    assert not engine.refresh(Q3, codes=CODES, incremental=True).skipped
    # Another period has its own history; a non-incremental run always computes.
    assert not engine.refresh(parse("2026Q2"), codes=CODES, incremental=True).skipped
    assert not engine.refresh(Q3, codes=CODES).skipped
    assert IndicatorRun.objects.filter(period="2026Q3", skipped=True).count() == 3


def test_incremental_computes_when_results_were_deleted(register: list) -> None:
    engine.refresh(Q3, codes=CODES)
    IndicatorResult.objects.all().delete()
    assert not engine.refresh(Q3, codes=CODES, incremental=True).skipped
    assert IndicatorResult.objects.exists()


def test_failed_run_is_recorded_and_keeps_old_rows(register: list, monkeypatch: pytest.MonkeyPatch) -> None:
    engine.refresh(Q3, codes=CODES)
    before = IndicatorResult.objects.count()
    from xinqiao.indicators import patient_sql

    def broken(period: object) -> dict:
        raise RuntimeError("boom")

    monkeypatch.setattr(patient_sql, "region_counts", broken)
    with pytest.raises(RuntimeError):
        engine.refresh(Q3, codes=CODES)
    assert IndicatorResult.objects.count() == before
    assert IndicatorRun.objects.order_by("-id").first().error == "RuntimeError: boom"


def test_unknown_codes_are_refused() -> None:
    with pytest.raises(KeyError):
        engine.calculate(Q3, ["nope"])


def test_calculators_cover_every_patient_indicator() -> None:
    assert set(CODES) <= set(engine.calculable_codes())


def test_levels_of_the_definition_are_respected(register: list, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    ind = definitions.get("managed_rate")
    narrowed = dataclasses.replace(ind, levels=(1, 2))
    real_get = definitions.get
    monkeypatch.setattr(definitions, "get", lambda code: narrowed if code == "managed_rate" else real_get(code))
    assert {engine.level(r) for c, r in engine.calculate(Q3, ["managed_rate"])} == {1, 2}
