"""Jobs of the followups app (Celery; eager in the embedded default).

``send_import_notices`` sends, after an import of follow-ups committed
(``paperwork.followup_import``), the notices the single form sends for one follow-up — police
informed at the danger threshold, the 失访 prompt after three failed attempts in a row — and the
work-list job's "overdue" notice for patients whose imported next date has already passed. Each
kind is built set-based (a few queries per 2,000 ids) and every notice carries the dedupe key the
form or the job would give it, so nothing is sent twice.
"""

from __future__ import annotations

import logging
from datetime import date

from celery import shared_task

from xinqiao.core.notifications import notify_many
from xinqiao.followups import services

log = logging.getLogger(__name__)


@shared_task(name="followups.send_import_notices")
def send_import_notices(police_followups: list[int], patients: list[int], today: str) -> int:
    """Police notices of ``police_followups``; overdue and 失访-prompt notices of ``patients``.

    Returns how many notices were offered (duplicates are skipped by the database).
    """
    notices = [
        *services.police_notices(police_followups),
        *services.overdue_notices(patients, date.fromisoformat(today)),
        *services.lost_prompt_notices(patients),
    ]
    offered = notify_many(notices)
    if offered:
        log.info("follow-up import: %d notice(s) offered", offered)
    return offered
