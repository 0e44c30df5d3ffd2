"""Pydantic (ninja) schemas of the indicators API: definitions, and stored results of a region and its sub-regions.

Results are counts (numerator, denominator, value): no personal data, so nothing is masked; they are
read within the caller's scope (``IndicatorResult.objects.restrict``).
"""

from __future__ import annotations

from ninja import Schema


class TargetSchema(Schema):
    """A target of an indicator for a year (``zone`` when it differs between eastern and other provinces)."""

    value: float
    year: int
    comparator: str
    source: str
    note: str
    zone: str


class DefinitionSchema(Schema):
    """One indicator of DOMAIN.md §6 as defined in ``data/indicators.json``."""

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
    levels: list[int]
    drilldown: bool
    targets: list[TargetSchema]


class ResultSchema(Schema):
    """One indicator of one region for the period, against the target of the period's year."""

    indicator: str
    value: float | None
    numerator: int | None
    denominator: int | None
    status: str
    target: float | None
    target_year: int | None
    target_source: str | None


class RegionResultsSchema(Schema):
    """A region (or a sub-region) and its results."""

    code: str
    name: str
    level: int
    results: list[ResultSchema]


class ResultsSchema(Schema):
    """The results of a region for a period, and those of its sub-regions (one level down)."""

    period: str
    period_type: str
    periods: list[str]
    region: RegionResultsSchema | None
    subregions: list[RegionResultsSchema]
