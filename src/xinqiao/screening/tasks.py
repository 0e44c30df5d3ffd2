"""Periodic jobs of screening (Celery; eager in the embedded default)."""

from __future__ import annotations

import logging

from celery import shared_task

from xinqiao.screening import services

log = logging.getLogger(__name__)


@shared_task(name="screening.escalate_overdue_alerts")
def escalate_overdue_alerts() -> int:
    """Every 5 minutes: hand unacknowledged alert tasks past their time to the county centre."""
    count = services.escalate_overdue_alerts()
    if count:
        log.warning("escalated %d overdue screening alert task(s) to level 2", count)
    return count
