"""Periodic job of the work lists (Celery; eager in the embedded default).

Beat entry (``settings.CELERY_BEAT_SCHEDULE``): ``"flag-overdue": {"task": "worklists.flag_overdue",
"schedule": crontab(hour=6, minute=30)}`` — every morning before clinics open. The job is
idempotent, so a more frequent schedule only sends what became late in between.
"""

from __future__ import annotations

import logging

from celery import shared_task

from xinqiao.worklists import flagging

log = logging.getLogger(__name__)


@shared_task(name="worklists.flag_overdue")
def flag_overdue() -> dict[str, object]:
    """Flag overdue follow-ups, late first visits, late case reports and case reports pending past their
    deadline; notify who must act."""
    result = flagging.flag_all()
    if result.notices:
        log.info("flag_overdue: %s", result.as_json())
    return {"date": result.date, "followups_overdue": result.followups_overdue,
            "first_visits_late": result.first_visits_late, "case_reports_late": result.case_reports_late,
            "case_reports_pending": result.case_reports_pending, "notices": result.notices}
