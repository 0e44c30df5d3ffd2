"""Sending notifications: one call, idempotent by ``dedupe_key``, many at once in one INSERT.

Periodic jobs (overdue follow-ups, late case reports, referral reminders) build the list of
notices in SQL and call ``notify_many``; a repeated run adds nothing because each notice's
``dedupe_key`` (e.g. ``overdue:<patient>:<due date>:doctor``) is unique.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xinqiao.core.models.notification import Notification


@dataclass(frozen=True)
class Notice:
    """What to send; exactly one of ``recipient_id`` / ``organisation_id`` is usually set."""

    kind: str
    title: str
    body: str = ""
    link: str = ""
    recipient_id: int | None = None
    organisation_id: int | None = None
    subject_type: str = ""
    subject_id: str = ""
    dedupe_key: str | None = None


def notify_many(notices: Iterable[Notice]) -> int:
    """Insert the notices in one statement, skipping any whose ``dedupe_key`` already exists.

    Returns how many rows were offered (the database silently skips duplicates).
    """
    rows = [
        Notification(
            kind=n.kind, title=n.title[:200], body=n.body, link=n.link, recipient_id=n.recipient_id,
            recipient_organisation_id=n.organisation_id, subject_type=n.subject_type,
            subject_id=n.subject_id, dedupe_key=n.dedupe_key,
        )
        for n in notices
        if n.recipient_id is not None or n.organisation_id is not None
    ]
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def notify(notice: Notice) -> None:
    """Send one notice (idempotent by ``dedupe_key``)."""
    notify_many([notice])
