"""``xinqiao flag-overdue [--date YYYY-MM-DD]``: run the periodic job once and print what it found.

Flags overdue follow-ups, first visits not made within the limit, late case reports and case
reports not yet entered past their deadline (drafts), and
notifies the responsible doctor (or clinic), the reporting unit and the county centre
(``worklists/flagging.py``). Idempotent: a second run on the same day adds nothing. Prints one JSON
line: ``{"date", "followups_overdue", "first_visits_late", "case_reports_late", "case_reports_pending",
"notices"}``
(counts of what was newly flagged). ``--date`` runs it as of another day (catching up after an
outage).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinqiao.worklists import flagging


class Command(BaseCommand):
    help = ("Flag overdue follow-ups, late first visits, late case reports and case reports pending past "
            "their deadline; notify who must act.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", default="", help="Run as of this day (YYYY-MM-DD); default today.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date: not a date in YYYY-MM-DD: {options['date']!r}") from None
        result = flagging.flag_all(today)
        self.stdout.write(result.as_json())
