"""The one scoring engine: answers + an :class:`~xinqiao.screening.instruments.Instrument` → :class:`ScoreResult`.

Pure Python (no Django import). Answers are 0-based option indexes in item order, ``None`` for a
skipped item. Everything instrument-specific (points, reverse items, bands, escalations, subscales,
alerts, C-SSRS risk rules) is data in the instrument file; this module only interprets it.

``score(load("phq9"), [0, 0, 0, 0, 0, 0, 0, 0, 1]).as_json_dict()`` →
``{"instrument": "phq9", "version": "1.0.0", "total": 1, "standard_score": None, "band": "minimal",
"band_label": "无或极轻微抑郁症状", "positive": False, "subscales": {}, "alerts": ["suicide_risk"],
"risk": None}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from .instruments import RISK_LEVELS, Escalation, Instrument, Item

__all__ = ["AnswerError", "ScoreResult", "SubscaleValue", "check_answers", "is_enabled", "score"]

#: A value in ``ScoreResult.subscales``: a count or sum (int), a mean rounded to 2 places (float),
#: a flag (bool, PCL-5 ``provisional_dsm5``) or ``None`` (SCL-90 ``positive_mean`` with no positive items).
SubscaleValue = int | float | bool | None


class AnswerError(ValueError):
    """The answers do not fit the instrument. ``item_number`` is the 1-based item (0 for the count);
    ``code`` is one of ``count``, ``invalid``, ``out_of_range``, ``missing``, ``not_applicable``."""

    def __init__(self, item_number: int, code: str, message_zh: str, message_en: str) -> None:
        self.item_number = item_number
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} / {message_en}")


@dataclass(frozen=True)
class ScoreResult:
    """The outcome of one scoring. :meth:`as_json_dict` is the JSON contract (CLI, API, storage)."""

    instrument: str
    version: str
    total: int | None
    standard_score: int | None
    band: str
    band_label: str
    positive: bool
    subscales: Mapping[str, SubscaleValue]
    alerts: tuple[str, ...]
    risk: str | None

    def as_json_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "version": self.version,
            "total": self.total,
            "standard_score": self.standard_score,
            "band": self.band,
            "band_label": self.band_label,
            "positive": self.positive,
            "subscales": dict(self.subscales),
            "alerts": list(self.alerts),
            "risk": self.risk,
        }


def is_enabled(item: Item, answers: Sequence[int | None]) -> bool:
    """Whether skip logic asks ``item`` given the (earlier) answers."""
    cond = item.enable_when
    return cond is None or answers[cond.item - 1] == cond.answer


def check_answers(instrument: Instrument, answers: Sequence[int | None]) -> tuple[int | None, ...]:
    """Validate answers and return them as a tuple; raise :class:`AnswerError` for the first problem.

    Items are checked in order; for each: the type, the index range, then skip logic (an answer to a
    question that must be skipped is an error) and finally whether a required answer is missing.
    """
    items = instrument.items
    if isinstance(answers, str | bytes) or len(answers) != len(items):
        got = len(answers)
        raise AnswerError(
            0,
            "count",
            f"{instrument.abbreviation} 需要 {len(items)} 个答案，实际收到 {got} 个。",
            f"{instrument.abbreviation} needs {len(items)} answers; got {got}.",
        )
    values = tuple(answers)
    for item, answer in zip(items, values, strict=True):
        label = item.label
        if answer is not None:
            if isinstance(answer, bool) or not isinstance(answer, int):
                raise AnswerError(
                    item.number,
                    "invalid",
                    f"第{label}题的答案必须是选项序号（从0开始的整数），收到的是 {answer!r}。",
                    f"Item {label}: the answer must be an option index (an integer from 0); got {answer!r}.",
                )
            if not 0 <= answer < len(item.options):
                last = len(item.options) - 1
                raise AnswerError(
                    item.number,
                    "out_of_range",
                    f"第{label}题的答案 {answer} 超出范围，应为 0–{last}。",
                    f"Item {label}: answer {answer} is out of range (0–{last}).",
                )
        if not is_enabled(item, values):
            if answer is not None:
                cond = item.enable_when
                assert cond is not None
                source = instrument.item(cond.item)
                option = source.options[cond.answer].text
                raise AnswerError(
                    item.number,
                    "not_applicable",
                    f"第{label}题应当跳过（只有第{source.label}题答“{option.zh}”时才问），却收到了答案 {answer}。",
                    f"Item {label} must be skipped (it is asked only when item {source.label} is “{option.en}”), "
                    f"but answer {answer} was given.",
                )
        elif answer is None and item.required:
            raise AnswerError(
                item.number,
                "missing",
                f"第{label}题未作答，此题必须回答。",
                f"Item {label} is required but was not answered.",
            )
    return values


def _round2(value: Fraction) -> float:
    """Round half up to 2 decimal places (the Chinese reporting convention), exactly."""
    hundredths = math.floor(value * 100 + Fraction(1, 2))
    return float(Fraction(hundredths, 100))


def _escalates(
    esc: Escalation, points: Sequence[int | None], exact_subscales: Mapping[str, Fraction]
) -> bool:
    scored = [p for p in points if p is not None]
    if esc.kind == "any_item_at_most":
        assert esc.points is not None
        return any(p <= esc.points for p in scored)
    if esc.kind == "count_items_at_least":
        assert esc.points is not None and esc.more_than is not None
        return sum(1 for p in scored if p >= esc.points) > esc.more_than
    assert esc.value is not None
    return any(v >= esc.value for v in exact_subscales.values())


def score(instrument: Instrument, answers: Sequence[int | None]) -> ScoreResult:
    """Score ``answers`` (0-based option indexes, ``None`` = skipped) on ``instrument``.

    Raises :class:`AnswerError` for a wrong number of answers, a non-integer or out-of-range index,
    an answer to a question skip logic skips, or a missing required answer.
    """
    values = check_answers(instrument, answers)
    scoring = instrument.scoring
    points: list[int | None] = [
        None if answer is None else item.points[answer]
        for item, answer in zip(instrument.items, values, strict=True)
    ]

    def yes(number: int) -> bool:
        p = points[number - 1]
        return p is not None and p > 0

    total: int | None = None
    standard: int | None = None
    risk: str | None = None
    subscales: dict[str, SubscaleValue] = {}
    exact: dict[str, Fraction] = {}

    if scoring.method == "risk":
        risk = RISK_LEVELS[0]
        for rule in scoring.risk_rules:
            if any(all(yes(n) for n in group) for group in rule.when_yes):
                risk = rule.risk
                break
        band = instrument.band(risk)
    else:
        total = sum(p for p in points if p is not None)
        standard = scoring.standard_score(total)
        for sub in instrument.subscales:
            sub_points = [points[n - 1] for n in sub.items]
            answered = [p for p in sub_points if p is not None]
            if sub.method == "count_at_least":
                assert sub.threshold is not None
                threshold = sub.threshold
                subscales[sub.code] = sum(1 for p in answered if p >= threshold)
            elif sub.method == "sum":
                exact[sub.code] = Fraction(sum(answered))
                subscales[sub.code] = sum(answered)
            elif answered:  # mean
                exact[sub.code] = Fraction(sum(answered), len(answered))
                subscales[sub.code] = _round2(exact[sub.code])
            else:
                subscales[sub.code] = None
        if scoring.provisional is not None:
            subscales[scoring.provisional.code] = all(
                int(subscales[name] or 0) >= minimum for name, minimum in scoring.provisional.requires.items()
            )
        if scoring.positive_item_points is not None:
            answered_points = [p for p in points if p is not None]
            positive = [p for p in answered_points if p >= scoring.positive_item_points]
            subscales["positive_items"] = len(positive)
            subscales["positive_mean"] = _round2(Fraction(sum(positive), len(positive))) if positive else None
            subscales["total_mean"] = (
                _round2(Fraction(total, len(answered_points))) if answered_points else None
            )
        basis = standard if scoring.band_basis == "standard_score" else total
        assert basis is not None
        index = next((i for i, b in enumerate(instrument.bands) if b.contains(basis)), None)
        if index is None:  # the loader guarantees the bands cover the whole range
            raise RuntimeError(f"{instrument.id}: score {basis} falls in no band")
        # an escalation whose condition holds puts the result in its target band, whatever the score
        for esc in scoring.escalations:
            if _escalates(esc, points, exact):
                index = next(i for i, b in enumerate(instrument.bands) if b.code == esc.band)
        band = instrument.bands[index]

    alerts: list[str] = []
    for alert in instrument.alerts:
        if alert.risk is not None:
            fired = risk == alert.risk
        else:
            assert alert.item is not None and alert.min_points is not None
            watched = points[alert.item - 1]
            fired = watched is not None and watched >= alert.min_points
        if fired and alert.code not in alerts:
            alerts.append(alert.code)

    return ScoreResult(
        instrument=instrument.id,
        version=instrument.version,
        total=total,
        standard_score=standard,
        band=band.code,
        band_label=band.label.zh,
        positive=band.positive,
        subscales=MappingProxyType(subscales),
        alerts=tuple(alerts),
        risk=risk,
    )
