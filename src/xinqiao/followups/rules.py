"""The follow-up classification rules of the national standard, as plain functions over plain values.

Source: 《国家基本公共卫生服务规范（第三版）》(2017) 严重精神障碍患者管理服务规范, 二、服务内容
(三) 随访评估 and (四) 分类干预 (``shared/DOMAIN.md`` §3). At each follow-up the doctor assesses
danger (危险性 0–5), mental state (symptoms, insight), physical illness, social function, adherence
and adverse reactions; the visit is classified, first match wins:

1. **不稳定** (unstable): danger 3–5, or marked psychotic symptoms, or insight 缺失, or a serious
   adverse drug reaction, or a serious physical illness → treat urgently and **refer at once** to a
   psychiatric institution; inform the police where danger ≥3; follow up within **2 weeks**.
2. **基本稳定** (basically stable): danger 1–2, or any one of: symptoms present, insight 不全,
   social function poor (an item rated 3 较差) → find the cause and **adjust the treatment** within
   the allowed range; follow up at **2 weeks**. If the patient is basically stable again at that
   check, ask a psychiatrist (**consult**) and follow up at **1 month**.
3. **稳定** (stable): none of the above → **keep the plan**; follow up at **3 months**.

What an administrator may configure (``data/rules.json``): the danger level from which the police
are informed, and the intervals. "N months" is the same day N calendar months later, clamped to the
month's last day (31 Jan + 1 month = 28/29 Feb).

``propose(parse_input({...})).as_json_dict()`` is the ``xinqiao followup-rule`` contract:
``{"classification": 1|2|3, "label": "不稳定"|"基本稳定"|"稳定", "next_followup_date": "YYYY-MM-DD",
"actions": [...]}``.

Pure Python: no Django import, so the rules are testable from the standard's wording alone. The
integer codes equal ``patients.codes`` (a test checks that).
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "ACTIONS",
    "LABELS_ZH",
    "ConfigError",
    "Interval",
    "Proposal",
    "RuleInput",
    "RuleInputError",
    "RulesConfig",
    "actions_for",
    "add_months",
    "classify",
    "config",
    "latest_allowed_date",
    "next_followup_date",
    "parse_input",
    "propose",
]

RULES_FILE = Path(__file__).resolve().parent / "data" / "rules.json"

# --- Codes (equal to patients.codes; repeated here to stay free of Django) -------------------------

#: 本次随访分类.
UNSTABLE, BASICALLY_STABLE, STABLE = 1, 2, 3
CLASSIFICATIONS: tuple[int, ...] = (UNSTABLE, BASICALLY_STABLE, STABLE)
#: The Chinese labels the contract prints whatever the user's language (the standard's terms).
LABELS_ZH: Mapping[int, str] = MappingProxyType({UNSTABLE: "不稳定", BASICALLY_STABLE: "基本稳定", STABLE: "稳定"})
#: Interval keys of ``rules.json`` per classification (basically stable twice running has its own).
INTERVAL_KEYS: Mapping[int, str] = MappingProxyType(
    {UNSTABLE: "unstable", BASICALLY_STABLE: "basically_stable", STABLE: "stable"})
AGAIN_KEY = "basically_stable_again"

#: 自知力 1 完全 2 不全 3 缺失.
INSIGHT_COMPLETE, INSIGHT_PARTIAL, INSIGHT_ABSENT = 1, 2, 3
INSIGHT_CODES: tuple[int, ...] = (INSIGHT_COMPLETE, INSIGHT_PARTIAL, INSIGHT_ABSENT)
#: 社会功能 1 良好 2 一般 3 较差; 生产劳动及工作 may be 9 不适用.
RATING_GOOD, RATING_FAIR, RATING_POOR = 1, 2, 3
NOT_APPLICABLE = 9
SOCIAL_FUNCTION_ITEMS: tuple[str, ...] = ("self_care", "housework", "work", "study", "social")
ITEMS_ALLOWING_NA: frozenset[str] = frozenset({"work"})
#: 目前症状 1 幻觉 … 12 其他.
SYMPTOM_CODES: tuple[int, ...] = tuple(range(1, 13))
#: 危险性评估 0–5 (DOMAIN.md §2).
DANGER_LEVELS: tuple[int, ...] = tuple(range(6))
#: The standard: danger 3–5 is unstable, 1–2 basically stable.
UNSTABLE_MIN_DANGER = 3
BASICALLY_STABLE_MIN_DANGER = 1
#: At least 4 follow-ups a year (规范管理: no gap over 3 months): no interval may exceed this.
STANDARD_MAX_INTERVAL_MONTHS = 3

#: What the doctor must do, in the order printed.
REFER = "refer"
NOTIFY_POLICE = "notify_police"
ADJUST_TREATMENT = "adjust_treatment"
CONSULT_PSYCHIATRIST = "consult_psychiatrist"
CONTINUE_PLAN = "continue_plan"
ACTIONS: tuple[str, ...] = (REFER, NOTIFY_POLICE, ADJUST_TREATMENT, CONSULT_PSYCHIATRIST, CONTINUE_PLAN)

#: Why a visit got its class (for the form's explanation; not part of the CLI contract).
REASONS: tuple[str, ...] = (
    "danger_high", "symptoms_marked", "insight_absent", "adverse_reaction_serious", "physical_illness_serious",
    "danger_low", "symptoms", "insight_partial", "social_function_poor",
)

INPUT_KEYS: tuple[str, ...] = (
    "followup_date", "danger_level", "insight", "symptoms", "symptoms_marked", "social_function",
    "adverse_reaction_serious", "physical_illness_serious", "previous_classification",
)
OPTIONAL_KEYS: frozenset[str] = frozenset({"previous_classification"})
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- Dates ------------------------------------------------------------------------------------------

def add_months(start: date, months: int) -> date:
    """The same day ``months`` calendar months later, clamped to that month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Interval:
    """A follow-up interval: ``months`` calendar months (clamped) and then ``days`` days."""

    days: int = 0
    months: int = 0

    def after(self, start: date) -> date:
        return add_months(start, self.months) + timedelta(days=self.days)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in (("months", self.months), ("days", self.days)) if v}


# --- Configuration ------------------------------------------------------------------------------------

class ConfigError(ValueError):
    """``rules.json`` is not valid; the message names the key."""


@dataclass(frozen=True)
class RulesConfig:
    """The configurable part of the rules (``data/rules.json``)."""

    notify_police_min_danger: int = 3
    intervals: Mapping[str, Interval] = field(default_factory=lambda: MappingProxyType({
        "unstable": Interval(days=14), "basically_stable": Interval(days=14),
        AGAIN_KEY: Interval(months=1), "stable": Interval(months=3),
    }))
    max_interval_months: int = STANDARD_MAX_INTERVAL_MONTHS


def _interval(key: str, raw: Any) -> Interval:
    if not isinstance(raw, Mapping) or not raw or set(raw) - {"days", "months"}:
        raise ConfigError(f"rules.json: intervals.{key} must be {{\"days\": N}} and/or {{\"months\": N}}")
    values = {}
    for unit in ("days", "months"):
        value = raw.get(unit, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"rules.json: intervals.{key}.{unit} must be a whole number ≥ 0")
        values[unit] = value
    interval = Interval(days=values["days"], months=values["months"])
    if interval.days == 0 and interval.months == 0:
        raise ConfigError(f"rules.json: intervals.{key} must be at least one day")
    return interval


def _longest_allowed_days(months: int) -> int:
    """The fewest days ``months`` calendar months can span (over a whole leap cycle)."""
    start = date(2024, 1, 1)
    return min((add_months(start + timedelta(d), months) - (start + timedelta(d))).days for d in range(1461))


def config_from_dict(raw: Mapping[str, Any]) -> RulesConfig:
    """Validate a parsed ``rules.json``; raise :class:`ConfigError` naming the offending key."""
    level = raw.get("notify_police_min_danger")
    if not isinstance(level, int) or isinstance(level, bool) or level not in DANGER_LEVELS:
        raise ConfigError("rules.json: notify_police_min_danger must be a danger level 0–5")
    most = raw.get("max_interval_months", STANDARD_MAX_INTERVAL_MONTHS)
    if not isinstance(most, int) or isinstance(most, bool) or not 1 <= most <= STANDARD_MAX_INTERVAL_MONTHS:
        raise ConfigError(f"rules.json: max_interval_months must be 1–{STANDARD_MAX_INTERVAL_MONTHS} "
                          "(at least 4 follow-ups a year)")
    intervals_raw = raw.get("intervals")
    if not isinstance(intervals_raw, Mapping):
        raise ConfigError("rules.json: intervals must be an object")
    wanted = (*INTERVAL_KEYS.values(), AGAIN_KEY)
    unknown = sorted(set(intervals_raw) - set(wanted))
    if unknown:
        raise ConfigError(f"rules.json: intervals.{unknown[0]} is not a known interval")
    intervals = {}
    for key in wanted:
        if key not in intervals_raw:
            raise ConfigError(f"rules.json: intervals.{key} is missing")
        interval = _interval(key, intervals_raw[key])
        if interval.months > most or (
            interval.months == 0 and interval.days > _longest_allowed_days(most)
        ) or (interval.months and interval.days and any(
            interval.after(d) > add_months(d, most)
            for d in (date(2024, 1, 1) + timedelta(n) for n in range(1461))
        )):
            raise ConfigError(f"rules.json: intervals.{key} is longer than {most} months")
        intervals[key] = interval
    return RulesConfig(notify_police_min_danger=level, intervals=MappingProxyType(intervals),
                       max_interval_months=most)


@lru_cache(maxsize=1)
def config() -> RulesConfig:
    """The configured rules (``data/rules.json``), validated on load."""
    return config_from_dict(json.loads(RULES_FILE.read_text(encoding="utf-8")))


def reload() -> None:
    """Forget the cached configuration (after an administrator edits it, and in tests)."""
    config.cache_clear()


# --- Input ------------------------------------------------------------------------------------------

class RuleInputError(ValueError):
    """The input does not fit the contract. ``key`` names it (``social_function.work`` for an item)."""

    def __init__(self, key: str, message_zh: str, message_en: str) -> None:
        self.key = key
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{key}: {message_en}")


@dataclass(frozen=True)
class RuleInput:
    """What the engine needs of one follow-up visit (the contract's input keys)."""

    followup_date: date
    danger_level: int
    insight: int
    symptoms: tuple[int, ...] = ()
    symptoms_marked: bool = False
    social_function: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType(dict.fromkeys(SOCIAL_FUNCTION_ITEMS, RATING_GOOD)))
    adverse_reaction_serious: bool = False
    physical_illness_serious: bool = False
    previous_classification: int | None = None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_in(key: str, value: Any, allowed: tuple[int, ...], what_zh: str, what_en: str) -> int:
    if not _is_int(value) or value not in allowed:
        shown = json.dumps(value, ensure_ascii=False)
        choices = "/".join(str(a) for a in allowed)
        raise RuleInputError(key, f"{key}（{what_zh}）须为 {choices} 之一，收到 {shown}。",
                             f"{key} ({what_en}) must be one of {choices}; got {shown}.")
    return int(value)


def _bool(key: str, value: Any, what_zh: str, what_en: str) -> bool:
    if not isinstance(value, bool):
        shown = json.dumps(value, ensure_ascii=False)
        raise RuleInputError(key, f"{key}（{what_zh}）须为 true 或 false，收到 {shown}。",
                             f"{key} ({what_en}) must be true or false; got {shown}.")
    return value


def _date(key: str, value: Any) -> date:
    if isinstance(value, str) and DATE_PATTERN.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    shown = json.dumps(value, ensure_ascii=False)
    raise RuleInputError(key, f"{key}（随访日期）须为 YYYY-MM-DD 格式的有效日期，收到 {shown}。",
                         f"{key} (follow-up date) must be a valid date as YYYY-MM-DD; got {shown}.")


def _symptoms(value: Any) -> tuple[int, ...]:
    key = "symptoms"
    if not isinstance(value, list):
        raise RuleInputError(key, f"{key}（目前症状）须为症状代码 1–12 的列表，无症状时为 []。",
                             f"{key} (current symptoms) must be a list of codes 1–12, [] for none.")
    for item in value:
        if not _is_int(item) or item not in SYMPTOM_CODES:
            shown = json.dumps(item, ensure_ascii=False)
            raise RuleInputError(key, f"{key}（目前症状）中的 {shown} 不是症状代码 1–12。",
                                 f"{key} (current symptoms): {shown} is not a symptom code 1–12.")
    if len(set(value)) != len(value):
        raise RuleInputError(key, f"{key}（目前症状）中有重复的代码。", f"{key} (current symptoms) repeats a code.")
    return tuple(sorted(value))


def _social_function(value: Any) -> Mapping[str, int]:
    key = "social_function"
    names = "、".join(SOCIAL_FUNCTION_ITEMS)
    if not isinstance(value, Mapping):
        raise RuleInputError(key, f"{key}（社会功能）须为含 {names} 五项的对象。",
                             f"{key} (social function) must be an object with {', '.join(SOCIAL_FUNCTION_ITEMS)}.")
    unknown = sorted(set(value) - set(SOCIAL_FUNCTION_ITEMS))
    if unknown:
        sub = f"{key}.{unknown[0]}"
        raise RuleInputError(sub, f"{sub} 不是社会功能项目（应为 {names}）。",
                             f"{sub} is not a social-function item ({', '.join(SOCIAL_FUNCTION_ITEMS)}).")
    out = {}
    for item in SOCIAL_FUNCTION_ITEMS:
        sub = f"{key}.{item}"
        if item not in value:
            raise RuleInputError(sub, f"缺少 {sub}（社会功能项目）。", f"{sub} (social-function item) is missing.")
        allowed = (RATING_GOOD, RATING_FAIR, RATING_POOR) + ((NOT_APPLICABLE,) if item in ITEMS_ALLOWING_NA else ())
        out[item] = _int_in(sub, value[item], allowed, "1 良好 2 一般 3 较差", "1 good, 2 fair, 3 poor")
    return MappingProxyType(out)


def parse_input(raw: Any) -> RuleInput:
    """Validate the contract's input (parsed JSON); raise :class:`RuleInputError` naming the first bad key."""
    if not isinstance(raw, Mapping):
        raise RuleInputError("input", "输入须为 JSON 对象。", "The input must be a JSON object.")
    parsers: dict[str, Any] = {
        "followup_date": lambda v: _date("followup_date", v),
        "danger_level": lambda v: _int_in("danger_level", v, DANGER_LEVELS, "危险性", "danger level"),
        "insight": lambda v: _int_in("insight", v, INSIGHT_CODES, "自知力 1 完全 2 不全 3 缺失",
                                     "insight: 1 complete, 2 partial, 3 absent"),
        "symptoms": _symptoms,
        "symptoms_marked": lambda v: _bool("symptoms_marked", v, "明显精神病性症状", "marked psychotic symptoms"),
        "social_function": _social_function,
        "adverse_reaction_serious": lambda v: _bool("adverse_reaction_serious", v, "严重药物不良反应",
                                                    "serious adverse drug reaction"),
        "physical_illness_serious": lambda v: _bool("physical_illness_serious", v, "严重躯体疾病",
                                                    "serious physical illness"),
        "previous_classification": lambda v: None if v is None else _int_in(
            "previous_classification", v, CLASSIFICATIONS, "上次随访分类 1 不稳定 2 基本稳定 3 稳定",
            "previous classification: 1 unstable, 2 basically stable, 3 stable"),
    }
    values: dict[str, Any] = {}
    for key in INPUT_KEYS:  # in contract order: the first bad key is the one named
        if key not in raw:
            if key in OPTIONAL_KEYS:
                values[key] = None
                continue
            raise RuleInputError(key, f"缺少必填项 {key}。", f"The required key {key} is missing.")
        values[key] = parsers[key](raw[key])
    unknown = sorted(set(raw) - set(INPUT_KEYS))
    if unknown:  # a misspelt key would otherwise be silently ignored
        raise RuleInputError(str(unknown[0]), f"{unknown[0]} 不是可接受的输入项。",
                             f"{unknown[0]} is not an accepted input key.")
    return RuleInput(**values)


# --- The rules --------------------------------------------------------------------------------------

def classify(inp: RuleInput) -> tuple[int, tuple[str, ...]]:
    """The visit's class and every criterion of that class that the visit meets (first class wins).

    规范（第三版）分类干预: 不稳定 — 危险性 3–5 级，或精神病症状明显、自知力缺失、有严重药物不良反应或严重躯体疾病;
    基本稳定 — 危险性 1–2 级，或精神症状、自知力、社会功能状况至少有一方面较差; 稳定 — 危险性 0 级，且精神症状
    基本消失，自知力基本恢复，社会功能处于一般或良好，无严重药物不良反应，躯体疾病稳定.
    """
    unstable = [reason for reason, met in (
        ("danger_high", inp.danger_level >= UNSTABLE_MIN_DANGER),
        ("symptoms_marked", inp.symptoms_marked),
        ("insight_absent", inp.insight == INSIGHT_ABSENT),
        ("adverse_reaction_serious", inp.adverse_reaction_serious),
        ("physical_illness_serious", inp.physical_illness_serious),
    ) if met]
    if unstable:
        return UNSTABLE, tuple(unstable)
    basically = [reason for reason, met in (
        ("danger_low", inp.danger_level >= BASICALLY_STABLE_MIN_DANGER),
        ("symptoms", bool(inp.symptoms)),
        ("insight_partial", inp.insight == INSIGHT_PARTIAL),
        ("social_function_poor", any(v == RATING_POOR for v in inp.social_function.values())),
    ) if met]
    if basically:
        return BASICALLY_STABLE, tuple(basically)
    return STABLE, ()


def next_followup_date(classification: int, followup_date: date, previous_classification: int | None,
                       cfg: RulesConfig | None = None) -> date:
    """When the next follow-up is due (unstable 2 weeks; basically stable 2 weeks, 1 month when the
    previous visit was basically stable too; stable 3 months — configurable)."""
    cfg = cfg or config()
    key = INTERVAL_KEYS[classification]
    if classification == BASICALLY_STABLE and previous_classification == BASICALLY_STABLE:
        key = AGAIN_KEY
    return cfg.intervals[key].after(followup_date)


def latest_allowed_date(followup_date: date, cfg: RulesConfig | None = None) -> date:
    """The latest next follow-up a doctor may set (at least 4 a year: within 3 months)."""
    return add_months(followup_date, (cfg or config()).max_interval_months)


def actions_for(classification: int, danger_level: int, previous_classification: int | None,
                cfg: RulesConfig | None = None) -> tuple[str, ...]:
    """What the doctor must do after a visit of this class (in ``ACTIONS`` order).

    不稳定: 转诊 (refer); 基本稳定: 调整治疗 (adjust), and a psychiatrist's guidance when basically
    stable twice running; 稳定: 继续执行 (continue). Police are informed from the configured danger
    level (default 3) whatever the class.
    """
    cfg = cfg or config()
    wanted = {
        REFER: classification == UNSTABLE,
        NOTIFY_POLICE: danger_level >= cfg.notify_police_min_danger,
        ADJUST_TREATMENT: classification == BASICALLY_STABLE,
        CONSULT_PSYCHIATRIST: classification == BASICALLY_STABLE and previous_classification == BASICALLY_STABLE,
        CONTINUE_PLAN: classification == STABLE,
    }
    return tuple(action for action in ACTIONS if wanted[action])


@dataclass(frozen=True)
class Proposal:
    """The engine's proposal for one visit. :meth:`as_json_dict` is the CLI/API contract."""

    classification: int
    next_followup_date: date
    actions: tuple[str, ...]
    reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return LABELS_ZH[self.classification]

    def as_json_dict(self) -> dict[str, Any]:
        return {
            "classification": self.classification,
            "label": self.label,
            "next_followup_date": self.next_followup_date.isoformat(),
            "actions": list(self.actions),
        }


def propose(inp: RuleInput, cfg: RulesConfig | None = None) -> Proposal:
    """Classification, next follow-up date and actions for one visit."""
    cfg = cfg or config()
    classification, reasons = classify(inp)
    return Proposal(
        classification=classification,
        next_followup_date=next_followup_date(classification, inp.followup_date, inp.previous_classification, cfg),
        actions=actions_for(classification, inp.danger_level, inp.previous_classification, cfg),
        reasons=reasons,
    )
