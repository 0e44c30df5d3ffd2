"""The medication catalogue's data file (``data/medications.json``) and loading it into the table.

``read_catalogue()`` parses and validates the file (pure Python); ``load_catalogue(model)`` upserts
it by Chinese generic name into the given model class, so the same code serves the data migration
(historical model) and ``xinqiao load-medications`` (after an administrator edits the file). Rows
no longer in the file are kept (old follow-ups point at them) but no longer offered.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATALOGUE_FILE = Path(__file__).resolve().parent / "data" / "medications.json"
ATC_PATTERN = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")
CLASSES = ("antipsychotic", "mood_stabiliser", "other")


@dataclass(frozen=True)
class Drug:
    """One row of the data file."""

    zh: str
    en: str
    atc: str
    drug_class: str
    long_acting: bool

    @property
    def default_period(self) -> str:
        """Long-acting injections are dosed per month, tablets per day."""
        return "month" if self.long_acting else "day"


def read_catalogue(path: Path = CATALOGUE_FILE) -> list[Drug]:
    """The drugs of the data file; ``ValueError`` naming the row and key when one is malformed."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    drugs: list[Drug] = []
    seen: set[str] = set()
    for n, row in enumerate(raw["drugs"], start=1):
        zh, en, atc = str(row.get("zh", "")).strip(), str(row.get("en", "")).strip(), str(row.get("atc", ""))
        if not zh or not en:
            raise ValueError(f"medications.json: drug {n} needs 'zh' and 'en'")
        if not ATC_PATTERN.match(atc):
            raise ValueError(f"medications.json: drug {n} ({zh}): 'atc' {atc!r} is not an ATC level-5 code")
        if row.get("class") not in CLASSES:
            raise ValueError(f"medications.json: drug {n} ({zh}): 'class' must be one of {', '.join(CLASSES)}")
        if zh in seen:
            raise ValueError(f"medications.json: drug {n} ({zh}) is listed twice")
        seen.add(zh)
        drugs.append(Drug(zh=zh, en=en, atc=atc, drug_class=row["class"], long_acting=bool(row.get("long_acting"))))
    return drugs


def load_catalogue(model: Any, path: Path = CATALOGUE_FILE) -> int:
    """Upsert the file into ``model`` (``MedicationCatalogue`` or its historical version); returns the rows."""
    drugs = read_catalogue(path)
    for drug in drugs:
        model.objects.update_or_create(generic_name_zh=drug.zh, defaults={
            "generic_name_en": drug.en, "atc_code": drug.atc, "drug_class": drug.drug_class,
            "long_acting": drug.long_acting, "default_unit": "mg", "default_period": drug.default_period,
            "active": True,
        })
    model.objects.exclude(generic_name_zh__in=[d.zh for d in drugs]).update(active=False)
    return len(drugs)
