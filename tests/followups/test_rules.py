"""The follow-up rules from the standard's wording (《国家基本公共卫生服务规范（第三版）》 分类干预; DOMAIN.md §3).

Every branch and threshold as a plain test, then hypothesis properties: danger 3–5 is always
unstable; the next date is after the visit and within 3 months; the output is valid JSON with
allowed actions. Pure Python: no database.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinqiao.followups import rules
from xinqiao.followups.rules import (
    ACTIONS,
    BASICALLY_STABLE,
    STABLE,
    UNSTABLE,
    ConfigError,
    Interval,
    RuleInput,
    RuleInputError,
    add_months,
    config_from_dict,
    parse_input,
    propose,
)

VISIT = date(2025, 3, 3)
GOOD = dict.fromkeys(rules.SOCIAL_FUNCTION_ITEMS, 1)


def visit(**changes: Any) -> RuleInput:
    """A stable visit (danger 0, no symptoms, insight complete, social function good), changed."""
    base: dict[str, Any] = {"followup_date": VISIT, "danger_level": 0, "insight": 1, "symptoms": (),
                            "symptoms_marked": False, "social_function": MappingProxyType(GOOD),
                            "adverse_reaction_serious": False, "physical_illness_serious": False,
                            "previous_classification": None}
    base.update(changes)
    return RuleInput(**base)


def raw(**changes: Any) -> dict[str, Any]:
    """The contract's JSON input for a stable visit, changed."""
    base: dict[str, Any] = {"followup_date": "2025-03-03", "danger_level": 0, "insight": 1, "symptoms": [],
                            "symptoms_marked": False, "social_function": dict(GOOD),
                            "adverse_reaction_serious": False, "physical_illness_serious": False}
    base.update(changes)
    return base


# --- 不稳定: 危险性 3–5 级，或精神病症状明显、自知力缺失、有严重药物不良反应或严重躯体疾病 ------------------

@pytest.mark.parametrize("level", [3, 4, 5])
def test_danger_3_to_5_is_unstable_refer_and_inform_police(level: int) -> None:
    p = propose(visit(danger_level=level))
    assert p.classification == UNSTABLE
    assert p.label == "不稳定"
    assert p.actions == ("refer", "notify_police")
    assert p.next_followup_date == VISIT + timedelta(days=14)  # within 2 weeks


@pytest.mark.parametrize("change", [
    {"symptoms_marked": True, "symptoms": (1, 3)},
    {"symptoms_marked": True},  # marked symptoms, even if not itemised
    {"insight": 3},
    {"adverse_reaction_serious": True},
    {"physical_illness_serious": True},
])
def test_each_other_unstable_criterion_refers_without_police(change: dict[str, Any]) -> None:
    p = propose(visit(**change))
    assert p.classification == UNSTABLE
    assert p.actions == ("refer",)  # danger 0: the police are not told
    assert p.next_followup_date == date(2025, 3, 17)


def test_unstable_wins_over_basically_stable_criteria() -> None:
    p = propose(visit(danger_level=2, insight=3, symptoms=(1,), social_function={**GOOD, "work": 3}))
    assert p.classification == UNSTABLE
    assert set(p.reasons) == {"insight_absent"}
    assert p.actions == ("refer",)


def test_unstable_reasons_list_every_criterion_met() -> None:
    p = propose(visit(danger_level=4, symptoms_marked=True, insight=3, adverse_reaction_serious=True,
                      physical_illness_serious=True))
    assert p.reasons == ("danger_high", "symptoms_marked", "insight_absent", "adverse_reaction_serious",
                         "physical_illness_serious")


# --- 基本稳定: 危险性 1–2 级，或精神症状、自知力、社会功能状况至少有一方面较差 -------------------------------

@pytest.mark.parametrize("level", [1, 2])
def test_danger_1_or_2_is_basically_stable(level: int) -> None:
    p = propose(visit(danger_level=level))
    assert (p.classification, p.label) == (BASICALLY_STABLE, "基本稳定")
    assert p.actions == ("adjust_treatment",)
    assert p.next_followup_date == VISIT + timedelta(days=14)  # at 2 weeks


@pytest.mark.parametrize("change", [
    {"symptoms": (10,)},  # 自语自笑, not marked
    {"symptoms": (12,)},  # 其他 still counts
    {"insight": 2},  # 不全
    *({"social_function": {**GOOD, item: 3}} for item in rules.SOCIAL_FUNCTION_ITEMS),  # any item 较差
])
def test_any_one_of_symptoms_insight_social_function_is_basically_stable(change: dict[str, Any]) -> None:
    assert propose(visit(**change)).classification == BASICALLY_STABLE


def test_social_function_fair_or_not_applicable_is_not_poor() -> None:
    fair = {item: 2 for item in rules.SOCIAL_FUNCTION_ITEMS}
    assert propose(visit(social_function={**fair, "work": 9})).classification == STABLE


def test_basically_stable_again_consults_a_psychiatrist_and_comes_back_in_a_month() -> None:
    p = propose(visit(danger_level=1, previous_classification=BASICALLY_STABLE))
    assert p.actions == ("adjust_treatment", "consult_psychiatrist")
    assert p.next_followup_date == date(2025, 4, 3)


@pytest.mark.parametrize("previous", [None, UNSTABLE, STABLE])
def test_basically_stable_after_another_class_is_two_weeks(previous: int | None) -> None:
    p = propose(visit(insight=2, previous_classification=previous))
    assert p.actions == ("adjust_treatment",)
    assert p.next_followup_date == date(2025, 3, 17)


# --- 稳定: 危险性 0 级，且精神症状基本消失，自知力基本恢复，社会功能一般或良好 ---------------------------------

def test_stable_keeps_the_plan_for_three_months() -> None:
    p = propose(visit())
    assert (p.classification, p.label, p.actions) == (STABLE, "稳定", ("continue_plan",))
    assert p.next_followup_date == date(2025, 6, 3)
    assert p.reasons == ()


def test_stable_after_basically_stable_goes_to_three_months() -> None:
    # 规范: at the 2-week check, "if stable, keep the plan → 3 months".
    assert propose(visit(previous_classification=BASICALLY_STABLE)).next_followup_date == date(2025, 6, 3)


# --- Dates: "N months" = the same day N calendar months later, clamped to the month's end -----------------

@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2024, 11, 30), 3, date(2025, 2, 28)),
    (date(2025, 12, 31), 3, date(2026, 3, 31)),
    (date(2025, 10, 15), 3, date(2026, 1, 15)),
    (date(2025, 5, 31), 1, date(2025, 6, 30)),
])
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_stable_visit_on_the_31st_of_november_end() -> None:
    p = propose(visit(followup_date=date(2025, 11, 30)))
    assert p.next_followup_date == date(2026, 2, 28)


# --- Configuration -------------------------------------------------------------------------------------

def default_raw() -> dict[str, Any]:
    return json.loads(rules.RULES_FILE.read_text(encoding="utf-8"))


def test_shipped_configuration_is_the_standards_default() -> None:
    cfg = rules.config()
    assert cfg.notify_police_min_danger == 3
    assert cfg.intervals["unstable"] == Interval(days=14)
    assert cfg.intervals["basically_stable"] == Interval(days=14)
    assert cfg.intervals["basically_stable_again"] == Interval(months=1)
    assert cfg.intervals["stable"] == Interval(months=3)


def test_a_lower_police_threshold_informs_police_of_a_basically_stable_patient() -> None:
    cfg = config_from_dict({**default_raw(), "notify_police_min_danger": 2})
    assert propose(visit(danger_level=2), cfg).actions == ("notify_police", "adjust_treatment")
    assert propose(visit(danger_level=1), cfg).actions == ("adjust_treatment",)


def test_configured_intervals_change_the_next_date() -> None:
    intervals = {**default_raw()["intervals"], "unstable": {"days": 7}, "basically_stable_again": {"days": 21}}
    cfg = config_from_dict({**default_raw(), "intervals": intervals})
    assert propose(visit(danger_level=5), cfg).next_followup_date == VISIT + timedelta(days=7)
    again = propose(visit(danger_level=1, previous_classification=2), cfg)
    assert again.next_followup_date == VISIT + timedelta(days=21)


@pytest.mark.parametrize(("change", "named"), [
    ({"notify_police_min_danger": 6}, "notify_police_min_danger"),
    ({"notify_police_min_danger": True}, "notify_police_min_danger"),
    ({"max_interval_months": 4}, "max_interval_months"),
    ({"intervals": {"unstable": {"days": 14}}}, "intervals.basically_stable"),
    ({"intervals_extra": 1, "intervals": {**json.loads(rules.RULES_FILE.read_text())["intervals"],
                                          "stable": {"months": 4}}}, "intervals.stable"),
    ({"intervals": {**json.loads(rules.RULES_FILE.read_text())["intervals"], "stable": {"days": 95}}},
     "intervals.stable"),
    ({"intervals": {**json.loads(rules.RULES_FILE.read_text())["intervals"], "stable": {"months": 3, "days": 1}}},
     "intervals.stable"),
    ({"intervals": {**json.loads(rules.RULES_FILE.read_text())["intervals"], "unstable": {"days": 0}}},
     "intervals.unstable"),
    ({"intervals": {**json.loads(rules.RULES_FILE.read_text())["intervals"], "weekly": {"days": 7}}},
     "intervals.weekly"),
])
def test_invalid_configuration_names_the_key(change: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        config_from_dict({**default_raw(), **change})


def test_89_days_is_the_longest_plain_day_interval_within_3_months() -> None:
    ok = config_from_dict({**default_raw(), "intervals": {**default_raw()["intervals"], "stable": {"days": 89}}})
    assert ok.intervals["stable"] == Interval(days=89)
    with pytest.raises(ConfigError):
        config_from_dict({**default_raw(), "intervals": {**default_raw()["intervals"], "stable": {"days": 90}}})


# --- Input validation names the key ----------------------------------------------------------------------

def test_parse_input_reads_the_contract() -> None:
    inp = parse_input(raw(symptoms=[3, 1], previous_classification=2, social_function={**GOOD, "work": 9}))
    assert inp.followup_date == VISIT
    assert inp.symptoms == (1, 3)
    assert inp.previous_classification == 2
    assert inp.social_function["work"] == 9


def test_previous_classification_may_be_null_or_absent() -> None:
    assert parse_input(raw(previous_classification=None)).previous_classification is None
    assert parse_input(raw()).previous_classification is None


@pytest.mark.parametrize(("change", "key"), [
    ({"followup_date": "2025-02-30"}, "followup_date"),
    ({"followup_date": "20250303"}, "followup_date"),
    ({"followup_date": 20250303}, "followup_date"),
    ({"danger_level": 6}, "danger_level"),
    ({"danger_level": -1}, "danger_level"),
    ({"danger_level": "3"}, "danger_level"),
    ({"danger_level": 2.0}, "danger_level"),
    ({"danger_level": True}, "danger_level"),
    ({"insight": 0}, "insight"),
    ({"insight": 4}, "insight"),
    ({"symptoms": [13]}, "symptoms"),
    ({"symptoms": [0]}, "symptoms"),
    ({"symptoms": [1, 1]}, "symptoms"),
    ({"symptoms": "1"}, "symptoms"),
    ({"symptoms": None}, "symptoms"),
    ({"symptoms_marked": "yes"}, "symptoms_marked"),
    ({"symptoms_marked": 1}, "symptoms_marked"),
    ({"social_function": {**GOOD, "self_care": 9}}, "social_function.self_care"),
    ({"social_function": {**GOOD, "work": 4}}, "social_function.work"),
    ({"social_function": {k: v for k, v in GOOD.items() if k != "study"}}, "social_function.study"),
    ({"social_function": {**GOOD, "leisure": 1}}, "social_function.leisure"),
    ({"social_function": [1, 1, 1, 1, 1]}, "social_function"),
    ({"adverse_reaction_serious": None}, "adverse_reaction_serious"),
    ({"physical_illness_serious": "false"}, "physical_illness_serious"),
    ({"previous_classification": 4}, "previous_classification"),
    ({"previous_classification": 0}, "previous_classification"),
    ({"risk": 3}, "risk"),
])
def test_invalid_input_names_the_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(RuleInputError) as caught:
        parse_input(raw(**change))
    assert caught.value.key == key
    assert key in caught.value.message_zh
    assert key in caught.value.message_en


@pytest.mark.parametrize("key", [k for k in rules.INPUT_KEYS if k not in rules.OPTIONAL_KEYS])
def test_missing_required_key_is_named(key: str) -> None:
    data = raw()
    del data[key]
    with pytest.raises(RuleInputError) as caught:
        parse_input(data)
    assert caught.value.key == key


def test_input_must_be_an_object() -> None:
    with pytest.raises(RuleInputError) as caught:
        parse_input([1, 2])
    assert caught.value.key == "input"


def test_codes_match_the_shared_vocabulary() -> None:
    from xinqiao.patients import codes

    assert dict(rules.LABELS_ZH) == codes.CLASSIFICATION_LABELS_ZH
    assert (UNSTABLE, BASICALLY_STABLE, STABLE) == tuple(codes.Classification.values)
    assert rules.SOCIAL_FUNCTION_ITEMS == codes.SOCIAL_FUNCTION_ITEMS
    assert rules.SYMPTOM_CODES == tuple(codes.Symptom.values)
    assert rules.INSIGHT_CODES == tuple(codes.Insight.values)
    assert rules.DANGER_LEVELS == tuple(codes.DangerLevel.values)
    assert rules.NOT_APPLICABLE == codes.NOT_APPLICABLE


# --- Properties -------------------------------------------------------------------------------------------

ratings = st.sampled_from((1, 2, 3))
social = st.fixed_dictionaries({
    "self_care": ratings, "housework": ratings, "work": st.sampled_from((1, 2, 3, 9)), "study": ratings,
    "social": ratings,
})
inputs = st.builds(
    RuleInput,
    followup_date=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    danger_level=st.integers(0, 5),
    insight=st.sampled_from((1, 2, 3)),
    symptoms=st.lists(st.integers(1, 12), unique=True, max_size=12).map(lambda s: tuple(sorted(s))),
    symptoms_marked=st.booleans(),
    social_function=social,
    adverse_reaction_serious=st.booleans(),
    physical_illness_serious=st.booleans(),
    previous_classification=st.sampled_from((None, 1, 2, 3)),
)


@given(inputs, st.integers(3, 5))
def test_danger_3_to_5_is_always_unstable(inp: RuleInput, level: int) -> None:
    p = propose(RuleInput(**{**inp.__dict__, "danger_level": level}))
    assert p.classification == UNSTABLE
    assert "refer" in p.actions and "notify_police" in p.actions


@given(inputs)
def test_next_date_is_after_the_visit_and_within_three_months(inp: RuleInput) -> None:
    p = propose(inp)
    assert inp.followup_date < p.next_followup_date <= add_months(inp.followup_date, 3)
    assert p.next_followup_date <= rules.latest_allowed_date(inp.followup_date)


@given(inputs)
def test_output_is_json_with_allowed_actions_and_round_trips(inp: RuleInput) -> None:
    p = propose(inp)
    out = json.loads(json.dumps(p.as_json_dict(), ensure_ascii=False))
    assert set(out) == {"classification", "label", "next_followup_date", "actions"}
    assert out["classification"] in (1, 2, 3)
    assert out["label"] == {1: "不稳定", 2: "基本稳定", 3: "稳定"}[out["classification"]]
    assert date.fromisoformat(out["next_followup_date"]) == p.next_followup_date
    assert out["actions"] and set(out["actions"]) <= set(ACTIONS)
    assert len(out["actions"]) == len(set(out["actions"]))
    # Exactly one class action, matching the class.
    class_actions = {1: "refer", 2: "adjust_treatment", 3: "continue_plan"}
    assert [a for a in out["actions"] if a in class_actions.values()] == [class_actions[out["classification"]]]
    assert ("notify_police" in out["actions"]) == (inp.danger_level >= 3)


@given(inputs)
def test_stable_only_when_no_criterion_is_met(inp: RuleInput) -> None:
    p = propose(inp)
    anything = (inp.danger_level > 0 or inp.symptoms or inp.symptoms_marked or inp.insight != 1
                or inp.adverse_reaction_serious or inp.physical_illness_serious
                or 3 in inp.social_function.values())
    assert (p.classification == STABLE) == (not anything)


@given(inputs)
def test_parse_input_accepts_what_propose_serialises(inp: RuleInput) -> None:
    data = {**inp.__dict__, "followup_date": inp.followup_date.isoformat(), "symptoms": list(inp.symptoms),
            "social_function": dict(inp.social_function)}
    assert parse_input(json.loads(json.dumps(data))) == RuleInput(**{**inp.__dict__,
                                                                     "social_function": inp.social_function})
