"""Loading regional figures (population, villages and communities) from a CSV file, all or nothing.

The coverage figures need denominators the platform does not otherwise hold (DOMAIN.md §6:
psychiatrists per 100,000 people; villages/communities with a counselling room). Until the
indicators app imports populations, they come from a CSV with the header
``region_code,year,measure,value,source``; ``data/statistics/`` ships the 2020 census figures of
the demo city. ``xinqiao load-region-statistics FILE`` runs :func:`load_csv`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.db import transaction

from xinqiao.core.models import Region
from xinqiao.registry.models import Measure, RegionStatistic

HEADER = ["region_code", "year", "measure", "value", "source"]


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


def load_csv(text: str) -> tuple[int, list[LineError]]:
    """Upsert every row, or none if any row is wrong; returns (rows loaded, errors by line)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(reader, [])]
    if header[:4] != HEADER[:4]:
        return 0, [LineError(1, f"the header must be {','.join(HEADER)}")]
    rows = [(n, r) for n, r in enumerate(reader, start=2) if any(c.strip() for c in r)]
    codes = {r[0].strip() for _n, r in rows if r}
    known = set(Region.objects.filter(code__in=codes).values_list("code", flat=True))
    errors: list[LineError] = []
    clean: list[tuple[str, int, str, int, str]] = []
    seen = set()
    for number, row in rows:
        row = [*row, "", "", "", "", ""][:5]
        code, year_text, measure, value, source = (c.strip() for c in row)
        if code not in known:
            errors.append(LineError(number, f"unknown region code {code!r}"))
        elif not year_text.isdigit() or not 1949 <= int(year_text) <= 2100:
            errors.append(LineError(number, f"year {year_text!r} is not a year"))
        elif measure not in Measure.values:
            errors.append(LineError(number, f"measure must be one of {', '.join(Measure.values)}"))
        elif not value.isdigit():
            errors.append(LineError(number, f"value {value!r} is not a whole number"))
        elif (code, year_text, measure) in seen:
            errors.append(LineError(number, "the same region, year and measure appear twice"))
        else:
            seen.add((code, year_text, measure))
            clean.append((code, int(year_text), measure, int(value), source[:255]))
    if errors:
        return 0, errors
    with transaction.atomic():
        for region_code, year_number, measure_code, amount, origin in clean:
            RegionStatistic.objects.update_or_create(
                region_id=region_code, year=year_number, measure=measure_code,
                defaults={"value": amount, "source": origin})
    return len(clean), []
