"""``xinqiao load-medications``: bring the medication catalogue in line with ``followups/data/medications.json``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from xinqiao.followups.catalogue import load_catalogue
from xinqiao.followups.models import MedicationCatalogue


class Command(BaseCommand):
    help = "Load the medication catalogue from followups/data/medications.json (upsert by Chinese name)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            n = load_catalogue(MedicationCatalogue)
        self.stdout.write(f"{n} drugs in the catalogue")
