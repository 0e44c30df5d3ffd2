"""The nightly job refreshes the current month, quarter and year, incrementally."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from tests.indicators.factories import followup, patient
from xinqiao.core.models import Region
from xinqiao.indicators import engine, tasks
from xinqiao.indicators.models import IndicatorResult, IndicatorRun

pytestmark = pytest.mark.django_db


def test_nightly_periods() -> None:
    assert [p.key for p in tasks.nightly_periods(date(2026, 11, 24))] == ["2026-11", "2026Q4", "2026"]


def test_refresh_nightly(towns: list[Region], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "calculable_codes", lambda: ("managed_rate", "medication_rate"))
    p = patient(towns[0], registered_on=date(2020, 1, 1))
    followup(p, timezone.localdate())
    first = tasks.refresh_nightly.delay().get()
    today = timezone.localdate()
    assert [r["period"] for r in first] == [p.key for p in tasks.nightly_periods(today)]
    assert all(not r["skipped"] and r["rows"] for r in first)
    assert IndicatorRun.objects.filter(trigger="nightly").count() == 3
    assert IndicatorResult.objects.filter(period=f"{today.year}", indicator="managed_rate",
                                          region_id=towns[0].code).get().numerator == 1
    assert all(r["skipped"] for r in tasks.refresh_nightly.delay().get())


def test_demo_fills_the_recent_periods(towns: list[Region]) -> None:
    from dataclasses import dataclass, field

    from xinqiao.indicators import demo

    @dataclass
    class Result:
        notes: list[str] = field(default_factory=list)

    p = patient(towns[0], registered_on=date(2020, 1, 1))
    followup(p, timezone.localdate())
    result = Result()
    demo.extend_demo(__import__("random").Random(1), result)
    keys = {period.key for period in demo.demo_periods()}
    assert len(keys) == 18
    assert set(IndicatorResult.objects.filter(indicator="managed_rate").values_list("period", flat=True)) == keys
    assert "18 periods" in result.notes[0]
    demo.extend_demo(__import__("random").Random(1), Result())   # again: nothing changed, every period skipped
    assert IndicatorRun.objects.filter(skipped=True).count() == 18
