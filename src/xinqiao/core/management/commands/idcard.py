"""``xinqiao idcard NUMBER``: validate a resident ID number (GB 11643-1999) and print JSON.

Contract: prints ``{"valid", "normalized", "birth_date", "sex", "region_code", "error"}`` and
exits 0 when valid, 1 when not. ``--type`` checks other document types.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from xinqiao.core import idcard


class Command(BaseCommand):
    help = "Validate an identity document number and print the result as JSON."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number")
        parser.add_argument("--type", default="resident_id", choices=[t.value for t in idcard.DocumentType])

    def handle(self, *args: Any, **options: Any) -> None:
        result = idcard.validate_document(options["type"], options["number"])
        self.stdout.write(json.dumps(result.as_json_dict(), ensure_ascii=False))
        self.stdout.flush()
        sys.exit(0 if result.valid else 1)
