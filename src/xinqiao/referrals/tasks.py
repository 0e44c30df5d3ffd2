"""Periodic jobs of referrals (Celery; eager in the embedded default)."""

from __future__ import annotations

import logging

from celery import shared_task

from xinqiao.referrals import services

log = logging.getLogger(__name__)


@shared_task(name="referrals.send_reminders")
def send_referral_reminders() -> int:
    """Hourly: notify the receiving and the sending organisation of each referral past its deadline
    (once per missed deadline: the notices' dedupe keys name it, so repeated runs add nothing)."""
    offered = services.send_referral_reminders()
    if offered:
        log.info("referral reminders: %d notice(s) offered", offered)
    return offered
