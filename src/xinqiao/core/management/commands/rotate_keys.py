"""``xinqiao rotate-keys``: re-encrypt personal data under the first key of XINQIAO_FIELD_KEYS.

Put the new key first and keep the old ones after it, run this, then drop the old keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinqiao.core import crypto
from xinqiao.core.keyrotation import rotate


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field under the active (first) field key; resumable."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        done = rotate(batch_size=options["batch_size"])
        total = sum(done.values())
        self.stdout.write(f"active key {crypto.active_key_id()}: {total} rows re-encrypted "
                          + ", ".join(f"{k}={v}" for k, v in done.items()))
