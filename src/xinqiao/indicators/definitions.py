"""The indicator definitions of DOMAIN.md §6 as data (``data/indicators.json``), loaded and validated.

Each indicator has a code, Chinese and English names and numerator/denominator wording, a unit and
its scale (value = numerator ÷ denominator × scale), the direction that is better, the clause it
encodes, its targets (with year and source; 2020 from the 2015–2020 plan 二(三), 2021 from the 2018
pilot plan), the region levels it is computed at and whether patient lists sit behind it.

The file also holds the configurable rules of the patient indicators (``rules()``: the 12-month
window, the 规范管理 minimum and gap, which statuses leave the register …) and the eastern-province
list the psychiatrist target depends on. A malformed file raises ``DefinitionError`` naming the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).resolve().parent / "data" / "indicators.json"

GROUPS = ("patient", "service")
UNITS = ("percent", "permille", "per_100k", "ratio", "count")
DIRECTIONS = ("higher", "lower")
COMPARATORS = (">=", "<=")
LEVELS = (1, 2, 3, 4)
ZONES = ("", "east", "central_west")
_TEXT_KEYS = ("code", "name_zh", "name_en", "numerator_zh", "numerator_en", "denominator_zh",
              "denominator_en", "source")


class DefinitionError(ValueError):
    """``indicators.json`` is not valid; the message names the key."""


@dataclass(frozen=True)
class Target:
    """A target value for a year, with where it comes from."""

    value: float
    year: int
    comparator: str  # ">=" | "<="
    source: str
    note: str = ""
    zone: str = ""   # "" everywhere; "east" / "central_west" where the target differs by zone

    def met_by(self, value: float) -> bool:
        """Whether ``value`` meets the target."""
        return value >= self.value if self.comparator == ">=" else value <= self.value


@dataclass(frozen=True)
class Indicator:
    """One indicator of DOMAIN.md §6."""

    code: str
    name_zh: str
    name_en: str
    group: str
    unit: str
    scale: float
    direction: str
    numerator_zh: str
    numerator_en: str
    denominator_zh: str
    denominator_en: str
    source: str
    targets: tuple[Target, ...]
    levels: tuple[int, ...]
    drilldown: bool

    def value(self, numerator: int, denominator: int | None) -> float | None:
        """numerator ÷ denominator × scale; a count indicator's value is its numerator; None without a base."""
        if self.unit == "count" and denominator is None:
            return float(numerator)
        if not denominator:
            return None
        return numerator / denominator * self.scale


@dataclass(frozen=True)
class Catalogue:
    """Everything in the data file."""

    indicators: tuple[Indicator, ...]
    sources: dict[str, str]
    rules: dict[str, Any]
    near_margin: float
    east_provinces: frozenset[str] = field(default_factory=frozenset)


def _require(mapping: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in mapping:
        raise DefinitionError(f"indicators.json: {where}.{key} is missing")
    value = mapping[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise DefinitionError(f"indicators.json: {where}.{key} has the wrong type ({type(value).__name__})")
    return value


def _target(raw: Any, where: str, sources: dict[str, str]) -> Target:
    if not isinstance(raw, dict):
        raise DefinitionError(f"indicators.json: {where} must be an object")
    value = _require(raw, "value", where, (int, float))
    year = _require(raw, "year", where, int)
    comparator = _require(raw, "comparator", where, str)
    if comparator not in COMPARATORS:
        raise DefinitionError(f"indicators.json: {where}.comparator must be one of {', '.join(COMPARATORS)}")
    source = _require(raw, "source", where, str)
    zone = raw.get("zone", "")
    if zone not in ZONES:
        raise DefinitionError(f"indicators.json: {where}.zone must be one of east, central_west")
    if not 2000 <= year <= 2100:
        raise DefinitionError(f"indicators.json: {where}.year is not a year")
    return Target(value=float(value), year=year, comparator=comparator, source=sources.get(source, source),
                  note=str(raw.get("note", "")), zone=zone)


def _indicator(raw: Any, index: int, sources: dict[str, str]) -> Indicator:
    where = f"indicators[{index}]"
    if not isinstance(raw, dict):
        raise DefinitionError(f"indicators.json: {where} must be an object")
    code = raw.get("code")
    if isinstance(code, str) and code:
        where = f"indicators[{code}]"
    texts = {key: _require(raw, key, where, str) for key in _TEXT_KEYS}
    for key, text in texts.items():
        if not text.strip():
            raise DefinitionError(f"indicators.json: {where}.{key} is empty")
    group = _require(raw, "group", where, str)
    if group not in GROUPS:
        raise DefinitionError(f"indicators.json: {where}.group must be patient or service")
    unit = _require(raw, "unit", where, str)
    if unit not in UNITS:
        raise DefinitionError(f"indicators.json: {where}.unit must be one of {', '.join(UNITS)}")
    scale = _require(raw, "scale", where, (int, float))
    if scale <= 0:
        raise DefinitionError(f"indicators.json: {where}.scale must be positive")
    direction = _require(raw, "direction", where, str)
    if direction not in DIRECTIONS:
        raise DefinitionError(f"indicators.json: {where}.direction must be higher or lower")
    targets_raw = _require(raw, "targets", where, list)
    targets = tuple(_target(t, f"{where}.targets[{i}]", sources) for i, t in enumerate(targets_raw))
    seen: set[tuple[int, str]] = set()
    for t in targets:
        if (t.year, t.zone) in seen:
            raise DefinitionError(f"indicators.json: {where}.targets has two targets for {t.year} {t.zone}".rstrip())
        seen.add((t.year, t.zone))
        if (t.comparator == ">=") != (direction == "higher"):
            raise DefinitionError(f"indicators.json: {where}.targets comparator disagrees with direction")
    levels = _require(raw, "levels", where, list)
    if not levels or any(level not in LEVELS for level in levels):
        raise DefinitionError(f"indicators.json: {where}.levels must be region levels 1–4")
    drilldown = _require(raw, "drilldown", where, bool)
    if drilldown and group != "patient":
        raise DefinitionError(f"indicators.json: {where}.drilldown is only for patient indicators")
    return Indicator(
        code=texts["code"], name_zh=texts["name_zh"], name_en=texts["name_en"], group=group, unit=unit,
        scale=float(scale), direction=direction, numerator_zh=texts["numerator_zh"],
        numerator_en=texts["numerator_en"], denominator_zh=texts["denominator_zh"],
        denominator_en=texts["denominator_en"], source=texts["source"],
        targets=tuple(sorted(targets, key=lambda t: (t.year, t.zone))), levels=tuple(sorted(levels)),
        drilldown=drilldown,
    )


_RULE_KEYS: dict[str, type | tuple[type, ...]] = {
    "window_months": int,
    "standard_management": dict,
    "stable_recent_days": int,
    "not_registered_statuses": list,
    "in_hospital_status": str,
    "face_to_face_methods": list,
    "medication_adherence": list,
    "regular_adherence": list,
    "stable_classification": int,
    "schizophrenia_diagnosis": str,
}


def _rules(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise DefinitionError("indicators.json: rules must be an object")
    rules = {key: _require(raw, key, "rules", kind) for key, kind in _RULE_KEYS.items()}
    if rules["window_months"] != 12:
        # The SQL window is "the 12 months ending at the period end" (periods.year_window).
        raise DefinitionError("indicators.json: rules.window_months must be 12")
    std = rules["standard_management"]
    for key in ("min_followups", "max_gap_days"):
        value = _require(std, key, "rules.standard_management", int)
        if value < 1:
            raise DefinitionError(f"indicators.json: rules.standard_management.{key} must be at least 1")
    if rules["stable_recent_days"] < 1:
        raise DefinitionError("indicators.json: rules.stable_recent_days must be at least 1")
    for key in ("face_to_face_methods", "medication_adherence", "regular_adherence"):
        if not rules[key] or not all(isinstance(v, int) and not isinstance(v, bool) for v in rules[key]):
            raise DefinitionError(f"indicators.json: rules.{key} must be a non-empty list of codes")
    if not all(isinstance(v, str) for v in rules["not_registered_statuses"]):
        raise DefinitionError("indicators.json: rules.not_registered_statuses must be a list of statuses")
    return rules


def load(path: Path | str = DATA_FILE) -> Catalogue:
    """Read and validate a definitions file (``DefinitionError`` naming the key when it is wrong)."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"indicators.json: not valid JSON ({exc})") from exc
    if not isinstance(raw, dict):
        raise DefinitionError("indicators.json: the top level must be an object")
    sources = _require(raw, "sources", "", dict)
    items = _require(raw, "indicators", "", list)
    indicators = tuple(_indicator(item, i, sources) for i, item in enumerate(items))
    codes = [ind.code for ind in indicators]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise DefinitionError(f"indicators.json: indicators[{duplicates[0]}] is defined twice")
    status = _require(raw, "status", "", dict)
    margin = _require(status, "near_margin", "status", (int, float))
    if not 0 <= margin < 1:
        raise DefinitionError("indicators.json: status.near_margin must be between 0 and 1")
    zones = raw.get("zones", {})
    east = zones.get("east", []) if isinstance(zones, dict) else []
    if not isinstance(east, list) or not all(isinstance(c, str) and len(c) == 2 for c in east):
        raise DefinitionError("indicators.json: zones.east must be a list of two-digit province codes")
    return Catalogue(indicators=indicators, sources=dict(sources), rules=_rules(raw.get("rules")),
                     near_margin=float(margin), east_provinces=frozenset(east))


@cache
def catalogue() -> Catalogue:
    """The shipped definitions (read once)."""
    return load()


def all_indicators() -> tuple[Indicator, ...]:
    """Every indicator, in file order."""
    return catalogue().indicators


def patient_indicators() -> tuple[Indicator, ...]:
    """The indicators computed from the patient register (``patient_sql.py``)."""
    return tuple(i for i in all_indicators() if i.group == "patient")


def get(code: str) -> Indicator:
    """The indicator with ``code`` (``KeyError`` if there is none)."""
    for ind in all_indicators():
        if ind.code == code:
            return ind
    raise KeyError(code)


def rules() -> dict[str, Any]:
    """The configurable rules of the patient indicators (``rules`` in the data file)."""
    return catalogue().rules


def zone_of(region_code: str | None) -> str:
    """``east`` or ``central_west`` for a region code (its province decides); "" when unknown."""
    if not region_code:
        return ""
    return "east" if region_code[:2] in catalogue().east_provinces else "central_west"


def target_for(ind: Indicator, year: int, region_code: str | None = None) -> Target | None:
    """The target in force in ``year``: the latest one set for that year or before, else the earliest.

    Where targets differ by zone (psychiatrists per 100,000), ``region_code`` picks east or
    central/west; without it the strictest target of the year applies.
    """
    if not ind.targets:
        return None
    zone = zone_of(region_code)
    candidates = [t for t in ind.targets if t.zone in ("", zone)] if zone else list(ind.targets)
    if not candidates:
        return None
    years = sorted({t.year for t in candidates})
    chosen_year = max((y for y in years if y <= year), default=years[0])
    of_year = [t for t in candidates if t.year == chosen_year]
    if ind.direction == "higher":
        return max(of_year, key=lambda t: t.value)
    return min(of_year, key=lambda t: t.value)


def status(ind: Indicator, value: float | None, year: int, region_code: str | None = None) -> str:
    """``met``, ``near`` (within the margin of the target), ``missed``, or ``none`` (no target or no value)."""
    target = target_for(ind, year, region_code)
    if target is None or value is None:
        return "none"
    if target.met_by(value):
        return "met"
    margin = catalogue().near_margin * abs(target.value)
    if abs(value - target.value) <= margin:
        return "near"
    return "missed"
