"""``xinqiao indicators --period 2026Q3 [--indicator CODE …] [--incremental]``: compute and store indicators.

Prints one line per period (rows written and seconds, or that nothing changed); exits 2 with a
message naming the period or indicator when the input is wrong.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinqiao.indicators import definitions, engine, periods
from xinqiao.indicators.models import IndicatorRun


class Command(BaseCommand):
    help = "Compute and store the indicators of one or more periods (month 2026-07, quarter 2026Q3, year 2026)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", action="append", required=True, metavar="KEY",
                            help="2026-07, 2026Q3 or 2026; repeat for several")
        parser.add_argument("--indicator", action="append", metavar="CODE", help="only these indicators")
        parser.add_argument("--incremental", action="store_true",
                            help="skip a period whose sources have not changed since its last run")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            chosen = [periods.parse(key) for key in options["period"]]
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        codes = options["indicator"]
        if codes:
            available = set(engine.calculable_codes())
            for code in codes:
                try:
                    definitions.get(code)
                except KeyError:
                    raise CommandError(f"“{code}” is not an indicator", returncode=2) from None
                if code not in available:
                    raise CommandError(f"“{code}” has no calculator yet", returncode=2)
        for period in chosen:
            run = engine.refresh(period, codes=codes, trigger=IndicatorRun.Trigger.COMMAND,
                                 incremental=options["incremental"])
            if run.skipped:
                self.stdout.write(f"{period.key}: unchanged since the last run, skipped")
            else:
                self.stdout.write(f"{period.key}: {len(run.indicators)} indicators, {run.rows} rows "
                                  f"in {run.duration_s or 0.0:.2f} s")
