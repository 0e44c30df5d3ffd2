"""``xinqiao load-region-statistics FILE.csv``: load population and village counts (all or nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from xinqiao.registry.statistics import load_csv


class Command(BaseCommand):
    help = "Load regional figures (region_code,year,measure,value,source) for the coverage figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        count, errors = load_csv(path.read_text(encoding="utf-8"))
        if errors:
            for e in errors:
                self.stderr.write(f"line {e.line}: {e.message}")
            raise CommandError(f"{len(errors)} errors; nothing was loaded")
        self.stdout.write(f"loaded {count} figures")
