"""Load the shipped division-code file into ``Region`` (used by a migration and a command)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from xinqiao.core.regions_data import ancestors, iter_regions

BATCH = 5000
UPDATE_FIELDS = ["name", "level", "kind", "parent", "pinyin", "initials", "province_code", "city_code", "county_code"]


def build_rows(region_model: Any, rows: Iterable[Any]) -> list[Any]:
    """Model instances for the data-file rows, parents before children."""
    out = []
    for row in sorted(rows, key=lambda r: (r.level, r.code)):
        codes = ancestors(row.code)
        out.append(region_model(
            code=row.code, name=row.name, level=row.level, kind=row.kind, parent_id=row.parent_code,
            pinyin=row.pinyin, initials=row.initials, province_code=codes["province_code"],
            city_code=codes["city_code"], county_code=codes["county_code"],
        ))
    return out


def load_regions(region_model: Any = None) -> int:
    """Insert or update every region from the data file; returns the number of rows. Safe to re-run."""
    if region_model is None:
        from xinqiao.core.models import Region as region_model
    objs = build_rows(region_model, iter_regions())
    with transaction.atomic():
        if not region_model.objects.exists():
            # Empty table (a new database, or a test that flushed): plain inserts are faster.
            region_model.objects.bulk_create(objs, batch_size=BATCH)
            return len(objs)
        for start in range(0, len(objs), BATCH):
            region_model.objects.bulk_create(
                objs[start : start + BATCH], batch_size=BATCH, update_conflicts=True,
                unique_fields=["code"], update_fields=UPDATE_FIELDS,
            )
    return len(objs)
