"""Periodic jobs of the foundation (Celery; eager in the embedded default)."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from xinqiao.core.audit import verify_chain
from xinqiao.core.models import IdempotencyKey

log = logging.getLogger(__name__)

#: Idempotency keys are kept this long; a client retrying later than this is a new submission.
IDEMPOTENCY_RETENTION_DAYS = 7


@shared_task(name="core.verify_audit_chain")
def verify_audit_chain() -> dict[str, object]:
    """Nightly: recompute the audit hash chain; log an error naming the first broken link."""
    report = verify_chain()
    if report.ok:
        log.info("audit chain intact: %d events", report.checked)
    else:
        log.error("audit chain broken at event %s: %s", report.broken_id, report.reason)
    return {"ok": report.ok, "checked": report.checked, "broken_id": report.broken_id}


@shared_task(name="core.purge_idempotency_keys")
def purge_idempotency_keys(days: int = IDEMPOTENCY_RETENTION_DAYS) -> int:
    """Delete idempotency keys older than ``days`` (one DELETE statement)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()
    return deleted
