"""``xinqiao audit verify``: check the audit hash chain and name the first broken link."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from xinqiao.core.audit import verify_chain


class Command(BaseCommand):
    help = "Audit-log tools. 'verify' recomputes the hash chain; exits 1 at the first broken link."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain()
        if options["json"]:
            self.stdout.write(json.dumps(report.__dict__))
        elif report.ok:
            self.stdout.write(self.style.SUCCESS(f"audit chain intact: {report.checked} events verified"))
        else:
            where = f"event #{report.broken_id}" if report.broken_id else "the end of the chain"
            self.stdout.write(self.style.ERROR(
                f"audit chain BROKEN at {where} after {report.checked} good events: {report.reason}"))
        self.stdout.flush()
        sys.exit(0 if report.ok else 1)
