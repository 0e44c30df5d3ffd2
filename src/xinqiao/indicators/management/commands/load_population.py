"""``xinqiao load-population FILE [--source TEXT]``: import 常住人口 and survey figures (CSV or .xlsx).

All or nothing: every row is checked first and the errors are printed row by row (row and column
named, in the active language); re-importing the same file changes nothing. See
``indicators/populations.py`` for the columns and the measures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from xinqiao.indicators.populations import import_file


class Command(BaseCommand):
    help = "Import resident populations and survey figures by region and year from a CSV or Excel file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--source", default="", help="Source written on rows whose 来源 column is empty.")
        parser.add_argument("--language", default="zh-hans", help="Language of the messages (default zh-hans).")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        with translation.override(options["language"]):
            if not path.is_file():
                raise CommandError(_("%(file)s: no such file.") % {"file": path})
            result = import_file(path.read_bytes(), path.name, source=options["source"])
            if not result.ok:
                for error in result.errors:
                    self.stderr.write(str(error))
                n = len(result.errors)
                raise CommandError(ngettext("%(n)s error; nothing was imported.", "%(n)s errors; nothing was imported.",
                                            n) % {"n": n})
            self.stdout.write(_("%(rows)s figures: %(created)s new, %(updated)s updated, %(unchanged)s unchanged.")
                              % {"rows": result.rows, "created": result.created, "updated": result.updated,
                                 "unchanged": result.unchanged})
