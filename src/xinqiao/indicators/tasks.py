"""Nightly refresh of the stored indicators (Celery; eager in the embedded default).

Beat entry (``settings.CELERY_BEAT_SCHEDULE``): ``"indicators-nightly": {"task":
"indicators.refresh_nightly", "schedule": crontab(hour=2, minute=15)}``. It refreshes the current
month, quarter and year, incrementally: a period whose sources have not changed since its last
run is skipped (``engine.refresh``).
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task
from django.utils import timezone

from xinqiao.indicators import engine, periods
from xinqiao.indicators.models import IndicatorRun

log = logging.getLogger(__name__)


def nightly_periods(today: date) -> list[periods.Period]:
    """The periods the nightly job keeps fresh: the month, quarter and year containing ``today``."""
    return [periods.containing(today, kind) for kind in (periods.MONTH, periods.QUARTER, periods.YEAR)]


@shared_task(name="indicators.refresh_nightly")
def refresh_nightly(incremental: bool = True) -> list[dict[str, object]]:
    """Refresh the current month, quarter and year; one summary per period."""
    out: list[dict[str, object]] = []
    for period in nightly_periods(timezone.localdate()):
        run = engine.refresh(period, trigger=IndicatorRun.Trigger.NIGHTLY, incremental=incremental)
        log.info("indicators %s: %s rows in %.2f s%s", period.key, run.rows, run.duration_s or 0.0,
                 " (unchanged, skipped)" if run.skipped else "")
        out.append({"period": period.key, "rows": run.rows, "skipped": run.skipped, "seconds": run.duration_s})
    return out
