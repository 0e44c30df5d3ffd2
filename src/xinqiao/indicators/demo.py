"""Demo indicators: compute the stored results of the demo's recent periods (after the register is built).

Runs after the patients, follow-ups and registry demos (app order in ``INSTALLED_APPS``), so the
dashboard opens on real numbers: the last 12 months, the last 4 quarters and the last 2 years.
Incremental, so a second ``xinqiao demo`` recomputes only what changed.
"""

from __future__ import annotations

import random
from typing import Any

from django.utils import timezone

from xinqiao.indicators import engine, periods
from xinqiao.indicators.models import IndicatorRun


def demo_periods(count_months: int = 12, count_quarters: int = 4, count_years: int = 2) -> list[periods.Period]:
    """The recent periods the demo fills, oldest first per type."""
    today = timezone.localdate()
    return [*periods.recent(periods.MONTH, count_months, today), *periods.recent(periods.QUARTER, count_quarters, today),
            *periods.recent(periods.YEAR, count_years, today)]


def extend_demo(rng: random.Random, result: Any) -> None:
    """Refresh the demo's recent periods (``rng`` unused: the results follow from the data)."""
    rows = 0
    chosen = demo_periods()
    for period in chosen:
        run = engine.refresh(period, trigger=IndicatorRun.Trigger.COMMAND, incremental=True)
        rows += run.rows
    result.notes.append(f"Indicators computed for {len(chosen)} periods ({chosen[0].key} … {chosen[-1].key}); "
                        f"{rows} result rows written")
