"""Seed the medication catalogue from ``followups/data/medications.json``."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def seed(apps: Any, schema_editor: Any) -> None:
    from xinqiao.followups.catalogue import load_catalogue

    load_catalogue(apps.get_model("followups", "MedicationCatalogue"))


class Migration(migrations.Migration):
    dependencies = [("followups", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
