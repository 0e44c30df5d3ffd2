"""Screening instruments as data: load and validate ``instruments/<id>.json`` into frozen dataclasses.

Each scale ships as one versioned JSON file in the ``instruments/`` directory next to this module
(see ``instruments/README.md`` for the format, sources, licences and LOINC codes). This module reads
a file, checks it thoroughly (:class:`InstrumentError` names the file and the place) and returns an
:class:`Instrument`. :func:`load` is cached; the scoring engine is :mod:`xinqiao.screening.rules`.

Pure Python: no Django import, so the loader and the engine run anywhere (web, API, CLI, tasks).

Points: an option's ``points`` are its points on a *forward* item. On an item with ``reverse: true``
option ``i`` of ``n`` scores the points of option ``n - 1 - i``. :attr:`Item.points` gives the points
actually scored per option index, reverse applied; use it (not ``Option.points``) wherever points are
shown or exported, e.g. as the FHIR ``ordinalValue``.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "DATA_DIR",
    "EXPECTED_ITEM_COUNTS",
    "INSTRUMENT_IDS",
    "RISK_LEVELS",
    "AlertRule",
    "Band",
    "EnableWhen",
    "Escalation",
    "Instrument",
    "InstrumentError",
    "Item",
    "Licence",
    "Loinc",
    "Option",
    "Provisional",
    "RiskRule",
    "Scoring",
    "Source",
    "Subscale",
    "SupplementaryItem",
    "Text",
    "UnknownInstrumentError",
    "all_instruments",
    "load",
    "load_directory",
    "load_file",
    "loinc_check_digit_ok",
]

DATA_DIR = Path(__file__).resolve().parent / "instruments"

#: The instruments shipped by default, in the order pages list them.
INSTRUMENT_IDS: tuple[str, ...] = (
    "phq9", "phq2", "gad7", "gad2", "scl90", "sds", "sas", "epds", "gds15", "ad8", "k10", "who5", "pcl5", "cssrs",
)  # fmt: skip

#: Item counts of the shipped instruments; a file with another count is rejected.
EXPECTED_ITEM_COUNTS: Mapping[str, int] = MappingProxyType({
    "phq9": 9, "phq2": 2, "gad7": 7, "gad2": 2, "scl90": 90, "sds": 20, "sas": 20, "epds": 10,
    "gds15": 15, "ad8": 8, "k10": 10, "who5": 5, "pcl5": 20, "cssrs": 7,
})  # fmt: skip

#: Risk levels of risk-method instruments (C-SSRS), lowest first; they are also its band codes.
RISK_LEVELS: tuple[str, ...] = ("none", "low", "moderate", "high")

SubscaleMethod = Literal["sum", "mean", "count_at_least"]
EscalationKind = Literal["any_item_at_most", "count_items_at_least", "any_subscale_at_least"]

_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_LOINC = re.compile(r"^\d{1,7}-\d$")
_LOINC_ANSWER = re.compile(r"^LA\d{1,6}-\d$")
_LABEL = re.compile(r"^[0-9A-Za-z]{1,8}$")


class InstrumentError(ValueError):
    """An instrument file is missing, unreadable or fails validation."""

    def __init__(self, source: str, where: str, message: str) -> None:
        self.source = source
        self.where = where
        self.message = message
        super().__init__(f"{source}: {where}: {message}" if where else f"{source}: {message}")


class UnknownInstrumentError(LookupError):
    """``load(id)`` was called with an id that is not in :data:`INSTRUMENT_IDS`."""


# --------------------------------------------------------------------------------------------------
# Dataclasses
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A string in simplified Chinese and English."""

    zh: str
    en: str

    def get(self, language: str) -> str:
        """The English text for ``en*`` language codes, else the Chinese."""
        return self.en if language.lower().startswith("en") else self.zh


@dataclass(frozen=True)
class Option:
    """One answer option. ``points`` are the points on a forward item (see :attr:`Item.points`)."""

    text: Text
    points: int
    loinc_answer: str | None = None


@dataclass(frozen=True)
class EnableWhen:
    """Skip logic: the item is asked only when item ``item`` was answered with option index ``answer``."""

    item: int
    answer: int


@dataclass(frozen=True)
class Item:
    """A scored question. ``number`` is its 1-based position in the answer list; ``label`` is what
    people see (``"6b"`` for the C-SSRS follow-up, else ``str(number)``)."""

    number: int
    label: str
    text: Text
    options: tuple[Option, ...]
    option_set: str | None
    reverse: bool
    required: bool
    loinc: str | None
    hint: Text | None = None
    enable_when: EnableWhen | None = None

    @property
    def points(self) -> tuple[int, ...]:
        """Points scored by each option index, reverse applied."""
        listed = tuple(option.points for option in self.options)
        return listed[::-1] if self.reverse else listed

    @property
    def min_points(self) -> int:
        return min(self.points)

    @property
    def max_points(self) -> int:
        return max(self.points)


@dataclass(frozen=True)
class SupplementaryItem:
    """An unscored question shown with the form (the PHQ-9/GAD-7 "how difficult" question). It is not
    part of the answer list that :func:`xinqiao.screening.rules.score` takes."""

    code: str
    text: Text
    options: tuple[Option, ...]
    option_set: str | None
    required: bool
    loinc: str | None


@dataclass(frozen=True)
class Subscale:
    """A named group of items. ``sum``: sum of points; ``mean``: mean of points (SCL-90 factors);
    ``count_at_least``: number of items scoring ``threshold`` or more (PCL-5 clusters)."""

    code: str
    name: Text
    items: tuple[int, ...]
    method: SubscaleMethod
    threshold: int | None = None


@dataclass(frozen=True)
class Band:
    """A result band. ``min``/``max`` are inclusive bounds on the band basis (total or standard score);
    both are ``None`` for risk-method instruments, whose bands are the risk levels."""

    code: str
    min: int | None
    max: int | None
    label: Text
    positive: bool
    advice: Text | None = None

    def contains(self, value: int) -> bool:
        return self.min is not None and self.max is not None and self.min <= value <= self.max


@dataclass(frozen=True)
class AlertRule:
    """An alert that fires whatever the total: when ``item`` scores ``min_points`` or more, or when the
    risk level is ``risk``."""

    code: str
    label: Text
    action: Text
    item: int | None = None
    min_points: int | None = None
    risk: str | None = None


@dataclass(frozen=True)
class Escalation:
    """Puts the result in ``band``, whatever the score says, when the condition holds.

    ``any_item_at_most``: some item scored ``points`` or less (WHO-5);
    ``count_items_at_least``: more than ``more_than`` items scored ``points`` or more (SCL-90);
    ``any_subscale_at_least``: some subscale reached ``value`` (SCL-90 factors).
    """

    kind: EscalationKind
    band: str
    points: int | None = None
    more_than: int | None = None
    value: Fraction | None = None


@dataclass(frozen=True)
class RiskRule:
    """``risk`` applies when, for some group in ``when_yes``, every item in the group was answered yes
    (an option scoring 1 or more). Rules are tried in order; the first match wins."""

    risk: str
    when_yes: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Provisional:
    """A boolean reported in the subscales under ``code``: true when each named subscale reaches its
    minimum (PCL-5 provisional DSM-5 diagnosis)."""

    code: str
    requires: Mapping[str, int]


@dataclass(frozen=True)
class Scoring:
    """How answers become a result."""

    method: Literal["sum", "risk"]
    options_per_item: int
    item_points: tuple[int, int]
    total_range: tuple[int, int] | None
    standard_multiplier: Fraction | None
    band_basis: Literal["total", "standard_score"]
    configurable_cutoffs: tuple[str, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    risk_rules: tuple[RiskRule, ...] = ()
    provisional: Provisional | None = None
    positive_item_points: int | None = None

    def standard_score(self, total: int | None) -> int | None:
        """``floor(total × multiplier)`` (SDS/SAS ×1.25, WHO-5 ×4), or ``None``."""
        if total is None or self.standard_multiplier is None:
            return None
        return int(total * self.standard_multiplier)  # Fraction → exact; int() truncates (totals ≥ 0)

    @property
    def basis_range(self) -> tuple[int, int] | None:
        """The range the bands cover: the total range, or the standard-score range."""
        if self.total_range is None:
            return None
        if self.band_basis == "standard_score":
            lo, hi = (self.standard_score(v) for v in self.total_range)
            assert lo is not None and hi is not None
            return lo, hi
        return self.total_range


@dataclass(frozen=True)
class Loinc:
    """LOINC codes: the panel, the total score, and which of the codes used are not verified."""

    panel: str | None
    total: str | None
    unverified: tuple[str, ...] = ()


@dataclass(frozen=True)
class Licence:
    """The copyright line to show with the instrument, and the terms in both languages."""

    copyright: str
    terms: Text


@dataclass(frozen=True)
class Source:
    citation: str
    url: str | None = None


@dataclass(frozen=True)
class Instrument:
    """One screening instrument definition (one JSON file). Immutable; :func:`load` caches it."""

    id: str
    version: str
    name: Text
    abbreviation: str
    description: Text
    instructions: Text
    timeframe: Text
    items: tuple[Item, ...]
    supplementary_items: tuple[SupplementaryItem, ...]
    option_sets: Mapping[str, tuple[Option, ...]]
    subscales: tuple[Subscale, ...]
    bands: tuple[Band, ...]
    alerts: tuple[AlertRule, ...]
    scoring: Scoring
    loinc: Loinc
    licence: Licence
    source: Source
    #: Band minimums changed by :meth:`with_cutoffs` (empty for the shipped definition).
    cutoff_overrides: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def __hash__(self) -> int:
        return hash((self.id, self.version, tuple(sorted(self.cutoff_overrides.items()))))

    def item(self, number: int) -> Item:
        """The item with 1-based ``number``."""
        if not 1 <= number <= len(self.items):
            raise KeyError(number)
        return self.items[number - 1]

    def band(self, code: str) -> Band:
        for band in self.bands:
            if band.code == code:
                return band
        raise KeyError(code)

    def alert(self, code: str) -> AlertRule:
        for rule in self.alerts:
            if rule.code == code:
                return rule
        raise KeyError(code)

    def with_cutoffs(self, **minimums: int) -> Instrument:
        """A copy whose named bands start at new minimums (EPDS ``possible``/``probable``, PCL-5
        ``probable_ptsd``; see ``scoring.configurable_cutoffs``). Each changed band keeps its code,
        label and positive flag; the band before it ends just below it. A band left empty is dropped:
        ``load("epds").with_cutoffs(probable=10)`` gives 0–9 unlikely and 10–30 probable (the Hong Kong
        9/10 cut-off). Raises ``ValueError`` for a band that is not configurable or out-of-order minimums.
        """
        allowed = set(self.scoring.configurable_cutoffs)
        unknown = sorted(set(minimums) - allowed)
        if unknown:
            raise ValueError(
                f"{self.id}: cut-off not configurable: {', '.join(unknown)} (allowed: {sorted(allowed)})"
            )
        basis = self.scoring.basis_range
        assert basis is not None  # risk-method instruments have no configurable cut-offs
        lo, hi = basis
        starts: list[int] = []
        for band in self.bands:
            assert band.min is not None
            value = minimums.get(band.code, band.min)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{self.id}: cut-off for {band.code} must be an integer")
            if band.code in minimums and not lo < value <= hi:
                raise ValueError(f"{self.id}: cut-off for {band.code} must be within {lo + 1}–{hi}")
            if starts and value < starts[-1]:
                raise ValueError(f"{self.id}: cut-offs must keep the band order")
            starts.append(value)
        new_bands: list[Band] = []
        for index, band in enumerate(self.bands):
            end = starts[index + 1] - 1 if index + 1 < len(self.bands) else hi
            if end >= starts[index]:
                new_bands.append(replace(band, min=starts[index], max=end))
        overrides = MappingProxyType({**self.cutoff_overrides, **minimums})
        changed = replace(self, bands=tuple(new_bands), cutoff_overrides=overrides)
        _check_bands(_Ctx(f"{self.id} (cut-offs {dict(overrides)})"), changed.bands, changed.scoring, "bands")
        return changed


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def loinc_check_digit_ok(code: str) -> bool:
    """Whether a LOINC code (``NNNNN-N``) has a valid mod-10 check digit (LOINC Users' Guide)."""
    if not _LOINC.match(code):
        return False
    digits, check = code.split("-")
    odd = digits[::-1][0::2][::-1]  # rightmost digit and every other one, in original order
    even = digits[::-1][1::2][::-1]
    doubled = str(int(odd) * 2)
    total = sum(int(d) for d in doubled) + sum(int(d) for d in even)
    return (10 - total % 10) % 10 == int(check)


class _Ctx:
    """Error reporting for one file."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> InstrumentError:
        return InstrumentError(self.source, where, message)

    def obj(
        self, value: Any, where: str, required: Iterable[str], optional: Iterable[str] = ()
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected an object")
        required = tuple(required)
        missing = [k for k in required if k not in value]
        if missing:
            raise self.fail(where, f"missing key(s): {', '.join(missing)}")
        extra = sorted(set(value) - set(required) - set(optional))
        if extra:
            raise self.fail(where, f"unknown key(s): {', '.join(extra)}")
        return value

    def string(self, value: Any, where: str, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "expected a non-empty string")
        if pattern is not None and not pattern.match(value):
            raise self.fail(where, f"{value!r} does not match {pattern.pattern}")
        return value

    def opt_string(self, value: Any, where: str, pattern: re.Pattern[str] | None = None) -> str | None:
        return None if value is None else self.string(value, where, pattern)

    def integer(self, value: Any, where: str, minimum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(where, "expected an integer")
        if minimum is not None and value < minimum:
            raise self.fail(where, f"must be at least {minimum}")
        return value

    def boolean(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, "expected true or false")
        return value

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "expected an array")
        return value

    def text(self, value: Any, where: str) -> Text:
        data = self.obj(value, where, ("zh", "en"))
        return Text(zh=self.string(data["zh"], f"{where}.zh"), en=self.string(data["en"], f"{where}.en"))

    def loinc(self, value: Any, where: str) -> str | None:
        code = self.opt_string(value, where, _LOINC)
        if code is not None and not loinc_check_digit_ok(code):
            raise self.fail(where, f"LOINC code {code} has a wrong check digit")
        return code


_TOP_REQUIRED = (
    "id", "version", "name", "abbreviation", "description", "instructions", "timeframe", "items", "option_sets",
    "subscales", "bands", "alerts", "scoring", "loinc", "licence", "source",
)  # fmt: skip
_TOP_OPTIONAL = ("supplementary_items",)


def _options(ctx: _Ctx, value: Any, where: str) -> tuple[Option, ...]:
    options = []
    for i, raw in enumerate(ctx.array(value, where)):
        w = f"{where}[{i}]"
        data = ctx.obj(raw, w, ("text", "points"), ("loinc_answer",))
        options.append(
            Option(
                text=ctx.text(data["text"], f"{w}.text"),
                points=ctx.integer(data["points"], f"{w}.points", minimum=0),
                loinc_answer=ctx.opt_string(data.get("loinc_answer"), f"{w}.loinc_answer", _LOINC_ANSWER),
            )
        )
    if len(options) < 2:
        raise ctx.fail(where, "an item needs at least 2 options")
    return tuple(options)


def _resolve_options(
    ctx: _Ctx, value: Any, where: str, option_sets: Mapping[str, tuple[Option, ...]], used: set[str]
) -> tuple[tuple[Option, ...], str | None]:
    if isinstance(value, str):
        if value not in option_sets:
            raise ctx.fail(where, f"unknown option set {value!r}")
        used.add(value)
        return option_sets[value], value
    return _options(ctx, value, where), None


def _check_bands(ctx: _Ctx, bands: tuple[Band, ...], scoring: Scoring, where: str) -> None:
    codes = [b.code for b in bands]
    if len(set(codes)) != len(codes):
        raise ctx.fail(where, "duplicate band codes")
    if not bands:
        raise ctx.fail(where, "at least one band is needed")
    if scoring.method == "risk":
        if tuple(codes) != RISK_LEVELS:
            raise ctx.fail(where, f"a risk-method instrument has the bands {list(RISK_LEVELS)} in that order")
        for i, band in enumerate(bands):
            if band.min is not None or band.max is not None:
                raise ctx.fail(f"{where}[{i}]", "risk bands have min and max null")
        return
    basis = scoring.basis_range
    assert basis is not None
    lo, hi = basis
    expected = lo
    for i, band in enumerate(bands):
        if band.min is None or band.max is None:
            raise ctx.fail(f"{where}[{i}]", "min and max are required")
        if band.min > band.max:
            raise ctx.fail(f"{where}[{i}]", f"min {band.min} is above max {band.max}")
        if band.min > expected:
            raise ctx.fail(f"{where}[{i}]", f"gap: nothing covers {expected}–{band.min - 1}")
        if band.min < expected:
            what = "overlap" if i else "starts below the lowest possible score"
            raise ctx.fail(f"{where}[{i}]", f"{what}: {band.code} starts at {band.min}, expected {expected}")
        expected = band.max + 1
    if expected - 1 != hi:
        raise ctx.fail(where, f"bands end at {expected - 1} but the {scoring.band_basis} runs to {hi}")


def _scoring(ctx: _Ctx, value: Any) -> Scoring:
    w = "scoring"
    data = ctx.obj(
        value,
        w,
        (
            "method",
            "options_per_item",
            "item_points",
            "total_range",
            "standard_score",
            "band_basis",
            "configurable_cutoffs",
            "escalations",
        ),
        ("risk_rules", "provisional", "item_statistics"),
    )
    method = data["method"]
    if method not in ("sum", "risk"):
        raise ctx.fail(f"{w}.method", "must be 'sum' or 'risk'")
    per_item = ctx.integer(data["options_per_item"], f"{w}.options_per_item", minimum=2)
    pts = ctx.array(data["item_points"], f"{w}.item_points")
    if len(pts) != 2:
        raise ctx.fail(f"{w}.item_points", "expected [min, max]")
    item_points = (
        ctx.integer(pts[0], f"{w}.item_points[0]", 0),
        ctx.integer(pts[1], f"{w}.item_points[1]", 0),
    )
    if item_points[0] >= item_points[1]:
        raise ctx.fail(f"{w}.item_points", "min must be below max")
    total_range: tuple[int, int] | None = None
    if data["total_range"] is not None:
        tr = ctx.array(data["total_range"], f"{w}.total_range")
        if len(tr) != 2:
            raise ctx.fail(f"{w}.total_range", "expected [min, max]")
        total_range = (
            ctx.integer(tr[0], f"{w}.total_range[0]", 0),
            ctx.integer(tr[1], f"{w}.total_range[1]", 0),
        )
    if (method == "sum") != (total_range is not None):
        raise ctx.fail(f"{w}.total_range", "required for sum scoring, null for risk scoring")
    multiplier: Fraction | None = None
    if data["standard_score"] is not None:
        std = ctx.obj(data["standard_score"], f"{w}.standard_score", ("multiplier", "rounding"))
        try:
            multiplier = Fraction(ctx.string(std["multiplier"], f"{w}.standard_score.multiplier"))
        except ValueError as exc:
            raise ctx.fail(f"{w}.standard_score.multiplier", "expected a decimal number as a string") from exc
        if multiplier <= 0:
            raise ctx.fail(f"{w}.standard_score.multiplier", "must be positive")
        if std["rounding"] != "floor":
            raise ctx.fail(f"{w}.standard_score.rounding", "only 'floor' is supported")
        if method != "sum":
            raise ctx.fail(f"{w}.standard_score", "only for sum scoring")
    basis = data["band_basis"]
    if basis not in ("total", "standard_score"):
        raise ctx.fail(f"{w}.band_basis", "must be 'total' or 'standard_score'")
    if basis == "standard_score" and multiplier is None:
        raise ctx.fail(f"{w}.band_basis", "standard_score basis needs a standard_score multiplier")
    cutoffs = tuple(
        ctx.string(c, f"{w}.configurable_cutoffs[{i}]", _CODE)
        for i, c in enumerate(ctx.array(data["configurable_cutoffs"], f"{w}.configurable_cutoffs"))
    )
    escalations = []
    for i, raw in enumerate(ctx.array(data["escalations"], f"{w}.escalations")):
        ew = f"{w}.escalations[{i}]"
        kind = raw.get("kind") if isinstance(raw, dict) else None
        if kind == "any_item_at_most":
            e = ctx.obj(raw, ew, ("kind", "points", "band"))
            escalations.append(
                Escalation(
                    kind,
                    ctx.string(e["band"], f"{ew}.band"),
                    points=ctx.integer(e["points"], f"{ew}.points", 0),
                )
            )
        elif kind == "count_items_at_least":
            e = ctx.obj(raw, ew, ("kind", "points", "more_than", "band"))
            escalations.append(
                Escalation(
                    kind,
                    ctx.string(e["band"], f"{ew}.band"),
                    points=ctx.integer(e["points"], f"{ew}.points", 0),
                    more_than=ctx.integer(e["more_than"], f"{ew}.more_than", 0),
                )
            )
        elif kind == "any_subscale_at_least":
            e = ctx.obj(raw, ew, ("kind", "value", "band"))
            if isinstance(e["value"], bool) or not isinstance(e["value"], int | float):
                raise ctx.fail(f"{ew}.value", "expected a number")
            escalations.append(
                Escalation(kind, ctx.string(e["band"], f"{ew}.band"), value=Fraction(str(e["value"])))
            )
        else:
            raise ctx.fail(f"{ew}.kind", "unknown escalation kind")
    if escalations and method != "sum":
        raise ctx.fail(f"{w}.escalations", "only for sum scoring")
    risk_rules = []
    if method == "risk":
        raw_rules = ctx.array(data.get("risk_rules"), f"{w}.risk_rules")
        if not raw_rules:
            raise ctx.fail(f"{w}.risk_rules", "risk scoring needs at least one rule")
        for i, raw in enumerate(raw_rules):
            rw = f"{w}.risk_rules[{i}]"
            r = ctx.obj(raw, rw, ("risk", "when_yes"))
            if r["risk"] not in RISK_LEVELS[1:]:
                raise ctx.fail(f"{rw}.risk", f"must be one of {list(RISK_LEVELS[1:])}")
            groups = []
            for j, g in enumerate(ctx.array(r["when_yes"], f"{rw}.when_yes")):
                numbers = tuple(
                    ctx.integer(n, f"{rw}.when_yes[{j}][{k}]", 1)
                    for k, n in enumerate(ctx.array(g, f"{rw}.when_yes[{j}]"))
                )
                if not numbers:
                    raise ctx.fail(f"{rw}.when_yes[{j}]", "empty group")
                groups.append(numbers)
            if not groups:
                raise ctx.fail(f"{rw}.when_yes", "at least one group is needed")
            risk_rules.append(RiskRule(r["risk"], tuple(groups)))
    elif data.get("risk_rules"):
        raise ctx.fail(f"{w}.risk_rules", "only for risk scoring")
    provisional: Provisional | None = None
    if data.get("provisional") is not None:
        p = ctx.obj(data["provisional"], f"{w}.provisional", ("code", "requires"))
        req = p["requires"]
        if not isinstance(req, dict) or not req:
            raise ctx.fail(f"{w}.provisional.requires", "expected a non-empty object")
        provisional = Provisional(
            code=ctx.string(p["code"], f"{w}.provisional.code", _CODE),
            requires=MappingProxyType(
                {
                    ctx.string(k, f"{w}.provisional.requires", _CODE): ctx.integer(
                        v, f"{w}.provisional.requires.{k}", 0
                    )
                    for k, v in req.items()
                }
            ),
        )
    positive_item_points: int | None = None
    if data.get("item_statistics") is not None:
        s = ctx.obj(data["item_statistics"], f"{w}.item_statistics", ("positive_points",))
        positive_item_points = ctx.integer(s["positive_points"], f"{w}.item_statistics.positive_points", 0)
        if not item_points[0] <= positive_item_points <= item_points[1]:
            raise ctx.fail(f"{w}.item_statistics.positive_points", "outside the item points range")
    return Scoring(
        method=method,
        options_per_item=per_item,
        item_points=item_points,
        total_range=total_range,
        standard_multiplier=multiplier,
        band_basis=basis,
        configurable_cutoffs=cutoffs,
        escalations=tuple(escalations),
        risk_rules=tuple(risk_rules),
        provisional=provisional,
        positive_item_points=positive_item_points,
    )


def _parse(ctx: _Ctx, doc: Any, expected_id: str | None) -> Instrument:
    doc = ctx.obj(doc, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    iid = ctx.string(doc["id"], "id", _ID)
    if expected_id is not None and iid != expected_id:
        raise ctx.fail("id", f"{iid!r} does not match the file name {expected_id!r}")
    version = ctx.string(doc["version"], "version", _SEMVER)
    scoring = _scoring(ctx, doc["scoring"])

    option_sets: dict[str, tuple[Option, ...]] = {}
    raw_sets = doc["option_sets"]
    if not isinstance(raw_sets, dict):
        raise ctx.fail("option_sets", "expected an object")
    for name, raw in raw_sets.items():
        option_sets[ctx.string(name, "option_sets", _CODE)] = _options(ctx, raw, f"option_sets.{name}")
    used_sets: set[str] = set()

    raw_items = ctx.array(doc["items"], "items")
    if not raw_items:
        raise ctx.fail("items", "no items")
    expected_count = EXPECTED_ITEM_COUNTS.get(iid)
    if expected_count is not None and len(raw_items) != expected_count:
        raise ctx.fail("items", f"{iid} has {expected_count} items, the file has {len(raw_items)}")
    items: list[Item] = []
    labels: set[str] = set()
    lo_pts, hi_pts = scoring.item_points
    for i, raw in enumerate(raw_items):
        w = f"items[{i}]"
        data = ctx.obj(
            raw,
            w,
            ("number", "text", "options", "reverse", "required", "loinc"),
            ("label", "hint", "enable_when"),
        )
        number = ctx.integer(data["number"], f"{w}.number")
        if number != i + 1:
            raise ctx.fail(f"{w}.number", f"items are numbered 1, 2, 3…; expected {i + 1}, found {number}")
        label = ctx.string(data.get("label", str(number)), f"{w}.label", _LABEL)
        if label in labels:
            raise ctx.fail(f"{w}.label", f"duplicate label {label!r}")
        labels.add(label)
        options, set_name = _resolve_options(ctx, data["options"], f"{w}.options", option_sets, used_sets)
        if len(options) != scoring.options_per_item:
            raise ctx.fail(
                f"{w}.options", f"expected {scoring.options_per_item} options, found {len(options)}"
            )
        reverse = ctx.boolean(data["reverse"], f"{w}.reverse")
        listed = [o.points for o in options]
        if min(listed) != lo_pts or max(listed) != hi_pts:
            raise ctx.fail(
                f"{w}.options", f"points {listed} do not span {lo_pts}–{hi_pts} (scoring.item_points)"
            )
        if reverse and any(b <= a for a, b in itertools.pairwise(listed)):
            raise ctx.fail(
                f"{w}.reverse", f"a reverse item needs strictly increasing option points, found {listed}"
            )
        enable_when: EnableWhen | None = None
        if data.get("enable_when") is not None:
            ew = ctx.obj(data["enable_when"], f"{w}.enable_when", ("item", "answer"))
            target = ctx.integer(ew["item"], f"{w}.enable_when.item", 1)
            if target >= number:
                raise ctx.fail(f"{w}.enable_when.item", "must refer to an earlier item")
            answer = ctx.integer(ew["answer"], f"{w}.enable_when.answer", 0)
            if answer >= len(items[target - 1].options):
                raise ctx.fail(f"{w}.enable_when.answer", f"item {target} has no option {answer}")
            enable_when = EnableWhen(target, answer)
        items.append(
            Item(
                number=number,
                label=label,
                text=ctx.text(data["text"], f"{w}.text"),
                options=options,
                option_set=set_name,
                reverse=reverse,
                required=ctx.boolean(data["required"], f"{w}.required"),
                loinc=ctx.loinc(data["loinc"], f"{w}.loinc"),
                hint=None if data.get("hint") is None else ctx.text(data["hint"], f"{w}.hint"),
                enable_when=enable_when,
            )
        )

    supplementary: list[SupplementaryItem] = []
    for i, raw in enumerate(ctx.array(doc.get("supplementary_items", []), "supplementary_items")):
        w = f"supplementary_items[{i}]"
        data = ctx.obj(raw, w, ("code", "text", "options", "required", "scored", "loinc"))
        if data["scored"] is not False:
            raise ctx.fail(f"{w}.scored", "supplementary items are never scored")
        options, set_name = _resolve_options(ctx, data["options"], f"{w}.options", option_sets, used_sets)
        supplementary.append(
            SupplementaryItem(
                code=ctx.string(data["code"], f"{w}.code", _CODE),
                text=ctx.text(data["text"], f"{w}.text"),
                options=options,
                option_set=set_name,
                required=ctx.boolean(data["required"], f"{w}.required"),
                loinc=ctx.loinc(data["loinc"], f"{w}.loinc"),
            )
        )
    unused = sorted(set(option_sets) - used_sets)
    if unused:
        raise ctx.fail("option_sets", f"unused option set(s): {', '.join(unused)}")

    if scoring.total_range is not None:
        computed = (
            sum(it.min_points for it in items if it.required and it.enable_when is None),
            sum(it.max_points for it in items),
        )
        if computed != scoring.total_range:
            raise ctx.fail(
                "scoring.total_range",
                f"declared {list(scoring.total_range)}, the items give {list(computed)}",
            )

    subscales: list[Subscale] = []
    for i, raw in enumerate(ctx.array(doc["subscales"], "subscales")):
        w = f"subscales[{i}]"
        data = ctx.obj(raw, w, ("code", "name", "items", "method"), ("threshold",))
        numbers = tuple(
            ctx.integer(n, f"{w}.items[{j}]", 1) for j, n in enumerate(ctx.array(data["items"], f"{w}.items"))
        )
        if not numbers or len(set(numbers)) != len(numbers) or max(numbers) > len(items):
            raise ctx.fail(f"{w}.items", "expected distinct item numbers of this instrument")
        method = data["method"]
        if method not in ("sum", "mean", "count_at_least"):
            raise ctx.fail(f"{w}.method", "must be sum, mean or count_at_least")
        threshold = None
        if method == "count_at_least":
            threshold = ctx.integer(data.get("threshold"), f"{w}.threshold", 0)
        elif data.get("threshold") is not None:
            raise ctx.fail(f"{w}.threshold", "only for count_at_least")
        subscales.append(
            Subscale(
                ctx.string(data["code"], f"{w}.code", _CODE),
                ctx.text(data["name"], f"{w}.name"),
                numbers,
                method,
                threshold,
            )
        )
    sub_codes = [s.code for s in subscales]
    reserved = {"positive_items", "positive_mean", "total_mean"}
    if scoring.provisional is not None:
        reserved.add(scoring.provisional.code)
        for name in scoring.provisional.requires:
            if name not in sub_codes:
                raise ctx.fail("scoring.provisional.requires", f"unknown subscale {name!r}")
    if len(set(sub_codes)) != len(sub_codes) or reserved & set(sub_codes):
        raise ctx.fail("subscales", "subscale codes must be unique and not reserved")

    bands: list[Band] = []
    for i, raw in enumerate(ctx.array(doc["bands"], "bands")):
        w = f"bands[{i}]"
        data = ctx.obj(raw, w, ("code", "min", "max", "label", "positive"), ("advice",))
        bands.append(
            Band(
                code=ctx.string(data["code"], f"{w}.code", _CODE),
                min=None if data["min"] is None else ctx.integer(data["min"], f"{w}.min"),
                max=None if data["max"] is None else ctx.integer(data["max"], f"{w}.max"),
                label=ctx.text(data["label"], f"{w}.label"),
                positive=ctx.boolean(data["positive"], f"{w}.positive"),
                advice=None if data.get("advice") is None else ctx.text(data["advice"], f"{w}.advice"),
            )
        )
    _check_bands(ctx, tuple(bands), scoring, "bands")
    band_codes = [b.code for b in bands]
    for i, esc in enumerate(scoring.escalations):
        if esc.band not in band_codes:
            raise ctx.fail(f"scoring.escalations[{i}].band", f"unknown band {esc.band!r}")
        if esc.kind == "any_subscale_at_least" and not any(s.method in ("sum", "mean") for s in subscales):
            raise ctx.fail(f"scoring.escalations[{i}]", "needs sum or mean subscales")
    for code in scoring.configurable_cutoffs:
        if code not in band_codes or code == band_codes[0]:
            raise ctx.fail("scoring.configurable_cutoffs", f"{code!r} is not a band after the first")
    for i, rule in enumerate(scoring.risk_rules):
        for group in rule.when_yes:
            if max(group) > len(items):
                raise ctx.fail(f"scoring.risk_rules[{i}]", "refers to a missing item")
    if scoring.method == "risk" and any(it.points != (0, 1) for it in items):
        raise ctx.fail("items", "risk scoring needs yes/no items scoring no = 0, yes = 1")

    alerts: list[AlertRule] = []
    for i, raw in enumerate(ctx.array(doc["alerts"], "alerts")):
        w = f"alerts[{i}]"
        data = ctx.obj(raw, w, ("code", "when", "label", "action"))
        when = data["when"]
        if isinstance(when, dict) and "risk" in when:
            ctx.obj(when, f"{w}.when", ("risk",))
            if scoring.method != "risk" or when["risk"] not in RISK_LEVELS:
                raise ctx.fail(f"{w}.when.risk", "risk alerts need risk scoring and a known risk level")
            item_no, min_points, risk = None, None, when["risk"]
        else:
            ctx.obj(when, f"{w}.when", ("item", "min_points"))
            item_no = ctx.integer(when["item"], f"{w}.when.item", 1)
            if item_no > len(items):
                raise ctx.fail(f"{w}.when.item", "no such item")
            min_points = ctx.integer(when["min_points"], f"{w}.when.min_points", 0)
            watched = items[item_no - 1]
            if not watched.min_points < min_points <= watched.max_points:
                raise ctx.fail(
                    f"{w}.when.min_points", f"must be within {watched.min_points + 1}–{watched.max_points}"
                )
            risk = None
        alerts.append(
            AlertRule(
                ctx.string(data["code"], f"{w}.code", _CODE),
                ctx.text(data["label"], f"{w}.label"),
                ctx.text(data["action"], f"{w}.action"),
                item_no,
                min_points,
                risk,
            )
        )

    lo = ctx.obj(doc["loinc"], "loinc", ("panel", "total", "unverified"))
    loinc = Loinc(
        panel=ctx.loinc(lo["panel"], "loinc.panel"),
        total=ctx.loinc(lo["total"], "loinc.total"),
        unverified=tuple(
            ctx.string(c, f"loinc.unverified[{i}]", _LOINC)
            for i, c in enumerate(ctx.array(lo["unverified"], "loinc.unverified"))
        ),
    )
    lic = ctx.obj(doc["licence"], "licence", ("copyright", "terms"))
    src = ctx.obj(doc["source"], "source", ("citation", "url"))
    return Instrument(
        id=iid,
        version=version,
        name=ctx.text(doc["name"], "name"),
        abbreviation=ctx.string(doc["abbreviation"], "abbreviation"),
        description=ctx.text(doc["description"], "description"),
        instructions=ctx.text(doc["instructions"], "instructions"),
        timeframe=ctx.text(doc["timeframe"], "timeframe"),
        items=tuple(items),
        supplementary_items=tuple(supplementary),
        option_sets=MappingProxyType(option_sets),
        subscales=tuple(subscales),
        bands=tuple(bands),
        alerts=tuple(alerts),
        scoring=scoring,
        loinc=loinc,
        licence=Licence(
            ctx.string(lic["copyright"], "licence.copyright"), ctx.text(lic["terms"], "licence.terms")
        ),
        source=Source(
            ctx.string(src["citation"], "source.citation"), ctx.opt_string(src["url"], "source.url")
        ),
    )


def load_file(path: str | Path) -> Instrument:
    """Read and validate one instrument file (not cached). The ``id`` inside must equal the file stem."""
    path = Path(path)
    ctx = _Ctx(path.name)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ctx.fail("", f"cannot read: {exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ctx.fail("", f"not valid JSON: {exc}") from exc
    return _parse(ctx, doc, path.stem)


def load_directory(directory: str | Path) -> dict[str, Instrument]:
    """Every ``*.json`` instrument in ``directory``, validated, keyed by id."""
    return {path.stem: load_file(path) for path in sorted(Path(directory).glob("*.json"))}


@cache
def load(instrument_id: str) -> Instrument:
    """The shipped instrument ``instrument_id`` (one of :data:`INSTRUMENT_IDS`), validated and cached."""
    if instrument_id not in INSTRUMENT_IDS:
        raise UnknownInstrumentError(instrument_id)
    return load_file(DATA_DIR / f"{instrument_id}.json")


def all_instruments() -> tuple[Instrument, ...]:
    """All shipped instruments in :data:`INSTRUMENT_IDS` order."""
    return tuple(load(instrument_id) for instrument_id in INSTRUMENT_IDS)
