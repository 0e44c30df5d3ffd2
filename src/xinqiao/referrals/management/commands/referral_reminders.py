"""``xinqiao referral-reminders [--date YYYY-MM-DD]``: remind organisations of referrals past their deadline.

The same job Celery beat runs (``referrals.send_reminders``). Set-based (one query for the overdue
referrals, one INSERT for the notices) and idempotent: each notice's dedupe key names the referral,
its state and the missed deadline, so running it twice a day adds nothing the second time. Prints
one JSON line: ``{"date": ..., "overdue": n, "offered": n, "created": n}``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from xinqiao.core.models import Notification
from xinqiao.referrals import services


class Command(BaseCommand):
    help = "Notify organisations of referrals past their receipt or completion deadline (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="Treat this day as today (YYYY-MM-DD); default: today.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = date.fromisoformat(options["date"]) if options.get("date") else timezone.localdate()
        except ValueError:
            raise CommandError("--date: use YYYY-MM-DD") from None
        before = Notification.objects.filter(kind="referral_overdue").count()
        overdue = services.overdue_referrals(today).count()
        offered = services.send_referral_reminders(today)
        created = Notification.objects.filter(kind="referral_overdue").count() - before
        self.stdout.write(json.dumps({"date": today.isoformat(), "overdue": overdue, "offered": offered,
                                      "created": created}))
