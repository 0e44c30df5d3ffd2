"""``xinqiao load-regions``: (re)load the shipped division codes; safe to re-run."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from xinqiao.core.regions_data import EDITION, SOURCE
from xinqiao.core.regions_loader import load_regions


class Command(BaseCommand):
    help = "Load the national division codes (province to township) from the shipped data file."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        n = load_regions()
        self.stdout.write(f"{n} regions loaded ({SOURCE}, {EDITION}) in {time.perf_counter() - started:.1f} s")
