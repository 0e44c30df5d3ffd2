"""The scoring engine against hand-worked examples at every band boundary, every reverse item, and
hypothesis properties (ranges, reverse symmetry, alerts whatever the total, C-SSRS skip logic).

Answers are 0-based option indexes; the comment next to each example works out the points.
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinqiao.screening.instruments import INSTRUMENT_IDS, Instrument, all_instruments, load
from xinqiao.screening.rules import AnswerError, ScoreResult, check_answers, is_enabled, score

N = None  # a skipped answer


def run(instrument_id: str, answers: list[int | None]) -> ScoreResult:
    return score(load(instrument_id), answers)


def expect(
    result: ScoreResult, total: int | None, band: str, positive: bool, alerts: tuple[str, ...] = ()
) -> None:
    assert (result.total, result.band, result.positive, result.alerts) == (total, band, positive, alerts), (
        result
    )


# --------------------------------------------------------------------------------------------------
# PHQ-9 / PHQ-2 / GAD-7 / GAD-2: options 0 not at all, 1 several days, 2 more than half, 3 nearly every day
# --------------------------------------------------------------------------------------------------

PHQ9_CASES = [
    ([0, 0, 0, 0, 0, 0, 0, 0, 0], 0, "minimal", False, ()),  # 0
    ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "minimal", False, ()),  # 1+1+1+1 = 4, top of minimal
    ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild", False, ()),  # 5×1 = 5
    ([1, 1, 1, 1, 1, 1, 1, 1, 0], 8, "mild", False, ()),  # 8×1 = 8
    ([2, 1, 1, 1, 1, 1, 1, 1, 0], 9, "mild", False, ()),  # 2 + 7×1 = 9, top of mild
    ([2, 2, 1, 1, 1, 1, 1, 1, 0], 10, "moderate", True, ()),  # 2+2 + 6×1 = 10, first positive
    ([2, 2, 2, 2, 2, 2, 2, 0, 0], 14, "moderate", True, ()),  # 7×2 = 14
    ([3, 2, 2, 2, 2, 2, 2, 0, 0], 15, "moderately_severe", True, ()),  # 3 + 6×2 = 15
    ([3, 3, 3, 3, 3, 2, 2, 0, 0], 19, "moderately_severe", True, ()),  # 5×3 + 2×2 = 19
    ([3, 3, 3, 3, 3, 3, 2, 0, 0], 20, "severe", True, ()),  # 6×3 + 2 = 20
    ([3, 3, 3, 3, 3, 3, 3, 3, 3], 27, "severe", True, ("suicide_risk",)),  # 9×3 = 27; item 9 = 3 > 0
    ([0, 0, 0, 0, 0, 0, 0, 0, 1], 1, "minimal", False, ("suicide_risk",)),  # item 9 = 1: alert at total 1
]


@pytest.mark.parametrize(("answers", "total", "band", "positive", "alerts"), PHQ9_CASES)
def test_phq9_bands(
    answers: list[int], total: int, band: str, positive: bool, alerts: tuple[str, ...]
) -> None:
    expect(run("phq9", answers), total, band, positive, alerts)


def test_phq9_alert_whatever_the_total_json() -> None:
    # The contract example: item 9 = 1 and all others 0 → total 1, band minimal, alert suicide_risk.
    assert run("phq9", [0, 0, 0, 0, 0, 0, 0, 0, 1]).as_json_dict() == {
        "instrument": "phq9",
        "version": "1.0.0",
        "total": 1,
        "standard_score": None,
        "band": "minimal",
        "band_label": "无或极轻微抑郁症状",
        "positive": False,
        "subscales": {},
        "alerts": ["suicide_risk"],
        "risk": None,
    }


@pytest.mark.parametrize("instrument_id", ["phq2", "gad2"])
@pytest.mark.parametrize(
    ("answers", "total", "band", "positive"),
    [
        ([0, 0], 0, "negative", False),  # 0
        ([1, 1], 2, "negative", False),  # 1+1 = 2, top of negative
        ([2, 1], 3, "positive", True),  # 2+1 = 3, cut-off ≥3
        ([3, 3], 6, "positive", True),  # 3+3 = 6
    ],
)
def test_two_item_screeners(
    instrument_id: str, answers: list[int], total: int, band: str, positive: bool
) -> None:
    expect(run(instrument_id, answers), total, band, positive)


@pytest.mark.parametrize(
    ("answers", "total", "band", "positive"),
    [
        ([0, 0, 0, 0, 0, 0, 0], 0, "minimal", False),  # 0
        ([1, 1, 1, 1, 0, 0, 0], 4, "minimal", False),  # 4×1 = 4
        ([1, 1, 1, 1, 1, 0, 0], 5, "mild", False),  # 5×1 = 5
        ([2, 2, 1, 1, 1, 1, 1], 9, "mild", False),  # 2+2 + 5×1 = 9
        ([2, 2, 2, 1, 1, 1, 1], 10, "moderate", True),  # 3×2 + 4×1 = 10
        ([2, 2, 2, 2, 2, 2, 2], 14, "moderate", True),  # 7×2 = 14
        ([3, 2, 2, 2, 2, 2, 2], 15, "severe", True),  # 3 + 6×2 = 15
        ([3, 3, 3, 3, 3, 3, 3], 21, "severe", True),  # 7×3 = 21
    ],
)
def test_gad7_bands(answers: list[int], total: int, band: str, positive: bool) -> None:
    expect(run("gad7", answers), total, band, positive)


# --------------------------------------------------------------------------------------------------
# SCL-90: option index i scores i + 1 (1 没有 … 5 严重)
# --------------------------------------------------------------------------------------------------

SOMATIZATION = [1, 4, 12, 27, 40, 42, 48, 49, 52, 53, 56, 58]
OBSESSIVE = [3, 9, 10, 28, 38, 45, 46, 51, 55, 65]
INTERPERSONAL = [6, 21, 34, 36, 37, 41, 61, 69, 73]
DEPRESSION = [5, 14, 15, 20, 22, 26, 29, 30, 31, 32, 54, 71, 79]
ANXIETY = [2, 17, 23, 33, 39, 57, 72, 78, 80, 86]
HOSTILITY = [11, 24, 63, 67, 74, 81]
OTHER = [19, 44, 59, 60, 64, 66, 89]


def scl(settings_by_item: dict[int, int]) -> list[int | None]:
    """90 answers, index 0 (1 point) except the given ``{item: index}``."""
    answers: list[int | None] = [0] * 90
    for number, index in settings_by_item.items():
        answers[number - 1] = index
    return answers


def test_scl90_floor_and_ceiling() -> None:
    low = run("scl90", [0] * 90)  # 90 × 1 = 90
    expect(low, 90, "negative", False)
    assert low.subscales["somatization"] == 1.0
    assert (low.subscales["positive_items"], low.subscales["positive_mean"], low.subscales["total_mean"]) == (
        0,
        None,
        1.0,
    )
    high = run("scl90", [4] * 90)  # 90 × 5 = 450
    expect(high, 450, "positive", True)
    assert high.subscales["psychoticism"] == 5.0
    assert (
        high.subscales["positive_items"],
        high.subscales["positive_mean"],
        high.subscales["total_mean"],
    ) == (90, 5.0, 5.0)


def _scl_total_160() -> dict[int, int]:
    # 7 "other" items at index 4 (5 points): 35. The 83 factor items at 1 point: 83. Running total 118.
    # 21 factor items at index 2 (3 points, +2 each) add 42 → 160, chosen so no factor mean reaches 2:
    #   somatization 1 4 12 27 40 → (12 + 5×2)/12 = 22/12 = 1.83
    #   obsessive 3 9 10 28       → (10 + 4×2)/10 = 1.8
    #   interpersonal 6 21 34 36  → (9 + 4×2)/9 = 17/9 = 1.89
    #   depression 5 14 15 20 22 26 → (13 + 6×2)/13 = 25/13 = 1.92
    #   anxiety 2 17              → (10 + 2×2)/10 = 1.4
    # positive items (≥ 2 points): 7 + 21 = 28 ≤ 43.
    chosen = {n: 4 for n in OTHER}
    for n in [1, 4, 12, 27, 40, 3, 9, 10, 28, 6, 21, 34, 36, 5, 14, 15, 20, 22, 26, 2, 17]:
        chosen[n] = 2
    return chosen


def test_scl90_total_160_is_negative_161_positive() -> None:
    at_160 = run("scl90", scl(_scl_total_160()))
    expect(at_160, 160, "negative", False)
    assert at_160.subscales["positive_items"] == 28
    assert at_160.subscales["depression"] == 1.92  # 25/13 = 1.923 → 1.92
    assert at_160.subscales["somatization"] == 1.83  # 22/12 = 1.833 → 1.83
    assert at_160.subscales["total_mean"] == 1.78  # 160/90 = 1.777… → 1.78
    # positive items: 7 × 5 + 21 × 3 = 98 over 28 items = 3.5
    assert at_160.subscales["positive_mean"] == 3.5
    # one more anxiety item (23) at index 1: +1 → 161 > 160 → positive by the total alone
    at_161 = run("scl90", scl({**_scl_total_160(), 23: 1}))
    expect(at_161, 161, "positive", True)
    assert at_161.subscales["positive_items"] == 29
    assert at_161.subscales["anxiety"] == 1.5  # (10 + 2 + 2 + 1)/10


def _scl_positive_items(count: int) -> dict[int, int]:
    # items at index 1 (2 points) — at most (size − 1) per factor so no factor mean reaches 2:
    # the 7 other items, then 11 somatization, 9 obsessive, 8 interpersonal, then depression items.
    pool = OTHER + SOMATIZATION[:11] + OBSESSIVE[:9] + INTERPERSONAL[:8] + DEPRESSION[:12]
    return {n: 1 for n in pool[:count]}


def test_scl90_positive_items_43_vs_44() -> None:
    # 43 items at 2 points: total 90 + 43 = 133 (≤ 160); factor means below 2; 43 is not > 43.
    r43 = run("scl90", scl(_scl_positive_items(43)))
    expect(r43, 133, "negative", False)
    assert r43.subscales["positive_items"] == 43
    assert r43.subscales["somatization"] == 1.92  # (11×2 + 1)/12 = 23/12
    assert r43.subscales["depression"] == 1.62  # (8×2 + 5)/13 = 21/13 = 1.615 → 1.62
    # 44 items: total 134, still ≤ 160 and every factor < 2, but 44 > 43 positive items → positive
    r44 = run("scl90", scl(_scl_positive_items(44)))
    expect(r44, 134, "positive", True)
    assert r44.subscales["positive_items"] == 44
    assert r44.subscales["positive_mean"] == 2.0


def test_scl90_one_factor_at_two() -> None:
    # hostility 11 24 63 67 74 81: five at 2 points, one at 1 → 11/6 = 1.83; total 90 + 5 = 95
    below = run("scl90", scl(dict.fromkeys(HOSTILITY[:5], 1)))
    expect(below, 95, "negative", False)
    assert below.subscales["hostility"] == 1.83
    # all six at 2 points → mean 12/6 = 2.0 ≥ 2 → positive although the total is only 96
    at_two = run("scl90", scl(dict.fromkeys(HOSTILITY, 1)))
    expect(at_two, 96, "positive", True)
    assert at_two.subscales["hostility"] == 2.0


def test_scl90_subscales_are_the_nine_factors_and_statistics() -> None:
    keys = list(run("scl90", [0] * 90).subscales)
    assert keys == [
        "somatization", "obsessive_compulsive", "interpersonal_sensitivity", "depression", "anxiety",
        "hostility", "phobic_anxiety", "paranoid_ideation", "psychoticism",
        "positive_items", "positive_mean", "total_mean",
    ]  # fmt: skip


def test_scl90_other_items_do_not_make_a_factor_positive() -> None:
    # all 7 "other" items at 5 points: total 83 + 35 = 118, 7 positive items, factors all 1.0
    expect(run("scl90", scl(dict.fromkeys(OTHER, 4))), 118, "negative", False)


# --------------------------------------------------------------------------------------------------
# Zung SDS / SAS: index i scores i + 1 on forward items and 4 − i on reverse items; standard = int(raw × 1.25)
# --------------------------------------------------------------------------------------------------

SDS_REVERSE = [2, 5, 6, 11, 12, 14, 16, 17, 18, 20]
SDS_FORWARD = [n for n in range(1, 21) if n not in SDS_REVERSE]
SAS_REVERSE = [5, 9, 13, 17, 19]
SAS_FORWARD = [n for n in range(1, 21) if n not in SAS_REVERSE]


def zung(
    forward: dict[int, int],
    reverse: dict[int, int],
    default_forward: int,
    default_reverse: int,
    rev: list[int],
) -> list[int | None]:
    answers: list[int | None] = []
    for n in range(1, 21):
        if n in rev:
            answers.append(reverse.get(n, default_reverse))
        else:
            answers.append(forward.get(n, default_forward))
    return answers


SDS_CASES = [
    # forward index 0 (1 pt) ×10 = 10; reverse index 3 (4 − 3 = 1 pt) ×10 = 10 → raw 20, int(25.0) = 25
    (zung({}, {}, 0, 3, SDS_REVERSE), 20, 25, "normal", False),
    # forward 1 pt ×10 = 10; reverse index 1 (4 − 1 = 3) ×10 = 30; item 1 at index 2 (3 pts, +2) → 42; int(52.5) = 52
    (zung({1: 2}, {}, 0, 1, SDS_REVERSE), 42, 52, "normal", False),
    # … and item 3 at index 1 (+1) → 43; int(53.75) = 53 → mild
    (zung({1: 2, 3: 1}, {}, 0, 1, SDS_REVERSE), 43, 53, "mild", True),
    # forward index 1 (2 pts) ×10 = 20; reverse index 1 (3 pts) ×10 = 30 → 50; int(62.5) = 62
    (zung({}, {}, 1, 1, SDS_REVERSE), 50, 62, "mild", True),
    # … item 1 at index 2 (+1) → 51; int(63.75) = 63 → moderate
    (zung({1: 2}, {}, 1, 1, SDS_REVERSE), 51, 63, "moderate", True),
    # forward: 8 at index 2 (3 pts) + items 15, 19 at index 1 (2 pts) = 24 + 4 = 28; reverse 3 pts ×10 = 30 → 58; int(72.5) = 72
    (zung({15: 1, 19: 1}, {}, 2, 1, SDS_REVERSE), 58, 72, "moderate", True),
    # … item 19 at index 2 (+1) → 59; int(73.75) = 73 → severe
    (zung({15: 1}, {}, 2, 1, SDS_REVERSE), 59, 73, "severe", True),
    # forward index 3 (4 pts) ×10 = 40; reverse index 0 (4 − 0 = 4) ×10 = 40 → 80; int(100.0) = 100
    (zung({}, {}, 3, 0, SDS_REVERSE), 80, 100, "severe", True),
]


@pytest.mark.parametrize(("answers", "raw", "standard", "band", "positive"), SDS_CASES)
def test_sds_bands(answers: list[int], raw: int, standard: int, band: str, positive: bool) -> None:
    result = run("sds", answers)
    expect(result, raw, band, positive)
    assert result.standard_score == standard


SAS_CASES = [
    # all index 0: forward 1 pt ×15 = 15; reverse 4 − 0 = 4 ×5 = 20 → 35; int(43.75) = 43
    (zung({}, {}, 0, 0, SAS_REVERSE), 35, 43, "normal", False),
    # … forward items 1 2 3 4 at index 1 (+1 each) → 39; int(48.75) = 48 (no raw score gives 49)
    (zung({1: 1, 2: 1, 3: 1, 4: 1}, {}, 0, 0, SAS_REVERSE), 39, 48, "normal", False),
    # … and item 6 (+1) → 40; int(50.0) = 50 → mild
    (zung({1: 1, 2: 1, 3: 1, 4: 1, 6: 1}, {}, 0, 0, SAS_REVERSE), 40, 50, "mild", True),
    # forward index 1 (2 pts) except items 16 18 20 at index 0 (1 pt): 12×2 + 3 = 27; reverse 4 ×5 = 20 → 47; int(58.75) = 58
    (zung({16: 0, 18: 0, 20: 0}, {}, 1, 0, SAS_REVERSE), 47, 58, "mild", True),
    # … item 20 back at index 1 (+1) → 48; int(60.0) = 60 → moderate
    (zung({16: 0, 18: 0}, {}, 1, 0, SAS_REVERSE), 48, 60, "moderate", True),
    # forward index 2 (3 pts) ×15 = 45; reverse index 2 (4 − 2 = 2) ×5 = 10 → 55; int(68.75) = 68
    (zung({}, {}, 2, 2, SAS_REVERSE), 55, 68, "moderate", True),
    # … item 1 at index 3 (+1) → 56; int(70.0) = 70 → severe
    (zung({1: 3}, {}, 2, 2, SAS_REVERSE), 56, 70, "severe", True),
    # minimum: forward index 0 (1) ×15 + reverse index 3 (1) ×5 = 20 → 25; maximum 80 → 100
    (zung({}, {}, 0, 3, SAS_REVERSE), 20, 25, "normal", False),
    (zung({}, {}, 3, 0, SAS_REVERSE), 80, 100, "severe", True),
]


@pytest.mark.parametrize(("answers", "raw", "standard", "band", "positive"), SAS_CASES)
def test_sas_bands(answers: list[int], raw: int, standard: int, band: str, positive: bool) -> None:
    result = run("sas", answers)
    expect(result, raw, band, positive)
    assert result.standard_score == standard


@pytest.mark.parametrize(("instrument_id", "reverse_items"), [("sds", SDS_REVERSE), ("sas", SAS_REVERSE)])
def test_every_zung_reverse_item(instrument_id: str, reverse_items: list[int]) -> None:
    rev = reverse_items
    base = zung({}, {}, 0, 3, rev)  # every item at 1 point: raw 20
    for number in range(1, 21):
        for index in range(4):
            answers = list(base)
            answers[number - 1] = index
            # forward: index i scores i + 1; reverse: index i scores 5 − (i + 1) = 4 − i; the rest stay at 1 point
            points = 4 - index if number in rev else index + 1
            assert run(instrument_id, answers).total == 19 + points, (number, index)


# --------------------------------------------------------------------------------------------------
# EPDS: printed option order; items 1, 2, 4 score 0→3 down the list, items 3, 5–10 score 3→0
# --------------------------------------------------------------------------------------------------

EPDS_MIN = [0, 0, 3, 0, 3, 3, 3, 3, 3, 3]  # every item at 0 points

EPDS_CASES = [
    (EPDS_MIN, 0, "unlikely", False, ()),
    # all index 3: items 1, 2, 4 score 3 each = 9; items 3, 5–10 score 0 → 9, top of unlikely
    ([3, 3, 3, 3, 3, 3, 3, 3, 3, 3], 9, "unlikely", False, ()),
    # … item 3 at index 2 ("not very often" = 1) → 10 possible (not positive by default)
    ([3, 3, 2, 3, 3, 3, 3, 3, 3, 3], 10, "possible", False, ()),
    # … items 3, 5, 6 at index 2 (1 each) → 9 + 3 = 12
    ([3, 3, 2, 3, 2, 2, 3, 3, 3, 3], 12, "possible", False, ()),
    # … and item 7 at index 2 → 13 probable (≥13, positive)
    ([3, 3, 2, 3, 2, 2, 2, 3, 3, 3], 13, "probable", True, ()),
    # items 1, 2, 4 at index 3 (3 each) and items 3, 5–10 at index 0 (3 each) → 10 × 3 = 30; item 10 = 3 → alert
    ([3, 3, 0, 3, 0, 0, 0, 0, 0, 0], 30, "probable", True, ("self_harm",)),
    # all index 0: items 1, 2, 4 → 0; items 3, 5–10 → 3 each × 7 = 21
    ([0] * 10, 21, "probable", True, ("self_harm",)),
    # only item 10 at index 2 ("hardly ever" = 1) → total 1, unlikely, alert self_harm whatever the total
    ([0, 0, 3, 0, 3, 3, 3, 3, 3, 2], 1, "unlikely", False, ("self_harm",)),
]


@pytest.mark.parametrize(("answers", "total", "band", "positive", "alerts"), EPDS_CASES)
def test_epds_bands(
    answers: list[int], total: int, band: str, positive: bool, alerts: tuple[str, ...]
) -> None:
    expect(run("epds", answers), total, band, positive, alerts)


def test_every_epds_item_direction() -> None:
    for number in range(1, 11):
        for index in range(4):
            answers: list[int | None] = list(EPDS_MIN)
            answers[number - 1] = index
            # items 3, 5–10 (reverse): index 0 → 3 … index 3 → 0; items 1, 2, 4: index i → i
            points = 3 - index if number in (3, 5, 6, 7, 8, 9, 10) else index
            assert run("epds", answers).total == points, (number, index)


def test_epds_hong_kong_cutoff() -> None:
    hk = load("epds").with_cutoffs(probable=10)  # 9/10
    answers = [3, 3, 2, 3, 3, 3, 3, 3, 3, 3]  # 9 + 1 = 10, "possible" with the default cut-offs
    assert run("epds", answers).positive is False
    expect(score(hk, answers), 10, "probable", True)
    expect(score(hk, [3] * 10), 9, "unlikely", False)


# --------------------------------------------------------------------------------------------------
# GDS-15: index 0 = no, 1 = yes; "no" scores on 1 5 7 11 13, "yes" on the rest
# --------------------------------------------------------------------------------------------------

GDS_REVERSE = [1, 5, 7, 11, 13]


def gds(depressive: list[int]) -> list[int | None]:
    """Answers giving 1 point exactly on the listed items: no on a reverse item, yes on the rest."""
    return [
        (0 if n in depressive else 1) if n in GDS_REVERSE else (1 if n in depressive else 0)
        for n in range(1, 16)
    ]


@pytest.mark.parametrize(
    ("depressive", "total", "band", "positive"),
    [
        ([], 0, "normal", False),  # yes on 1 5 7 11 13, no on the rest → 0
        ([1, 5, 7, 11, 13], 5, "normal", False),  # "no" on the five reverse items: 5 × 1 = 5 (>5 needed)
        ([1, 5, 7, 11, 13, 2], 6, "suggestive", True),  # + yes on item 2 → 6 > 5
        ([1, 5, 7, 11, 13, 2, 3, 4, 6], 9, "suggestive", True),  # + yes on 3 4 6 → 9
        ([1, 5, 7, 11, 13, 2, 3, 4, 6, 8], 10, "probable", True),  # + yes on 8 → 10 (≥10)
        (list(range(1, 16)), 15, "probable", True),  # all 15
    ],
)
def test_gds15_bands(depressive: list[int], total: int, band: str, positive: bool) -> None:
    expect(run("gds15", gds(depressive)), total, band, positive)


def test_every_gds15_item_direction() -> None:
    base = gds([])  # 0 points
    for number in range(1, 16):
        for index in (0, 1):
            answers = list(base)
            answers[number - 1] = index
            points = (1 - index) if number in GDS_REVERSE else index  # reverse: no (0) → 1, yes (1) → 0
            assert run("gds15", answers).total == points, (number, index)


# --------------------------------------------------------------------------------------------------
# AD8: 0 no change (0), 1 yes a change (1), 2 N/A (0, answered)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band", "positive"),
    [
        ([0] * 8, 0, "normal", False),
        ([1, 0, 0, 0, 0, 0, 0, 0], 1, "normal", False),  # one change = 1
        ([1, 1, 0, 0, 0, 0, 0, 0], 2, "impairment_likely", True),  # two changes = 2 (≥2)
        ([2] * 8, 0, "normal", False),  # all N/A: answered, 0 points
        ([1, 2, 2, 2, 2, 2, 2, 1], 2, "impairment_likely", True),  # 1 + 6×0 + 1 = 2
        ([1] * 8, 8, "impairment_likely", True),
    ],
)
def test_ad8_bands(answers: list[int], total: int, band: str, positive: bool) -> None:
    expect(run("ad8", answers), total, band, positive)


# --------------------------------------------------------------------------------------------------
# K10: index i scores i + 1 (1 none of the time … 5 all of the time)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band", "positive"),
    [
        ([0] * 10, 10, "low", False),  # 10 × 1
        ([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], 15, "low", False),  # 5×2 + 5×1 = 15
        ([1, 1, 1, 1, 1, 1, 0, 0, 0, 0], 16, "moderate", False),  # 6×2 + 4×1 = 16
        ([2, 1, 1, 1, 1, 1, 1, 1, 1, 1], 21, "moderate", False),  # 3 + 9×2 = 21
        ([2, 2, 1, 1, 1, 1, 1, 1, 1, 1], 22, "high", True),  # 2×3 + 8×2 = 22
        ([2, 2, 2, 2, 2, 2, 2, 2, 2, 1], 29, "high", True),  # 9×3 + 2 = 29
        ([2] * 10, 30, "very_high", True),  # 10 × 3
        ([4] * 10, 50, "very_high", True),  # 10 × 5
    ],
)
def test_k10_bands(answers: list[int], total: int, band: str, positive: bool) -> None:
    expect(run("k10", answers), total, band, positive)


# --------------------------------------------------------------------------------------------------
# WHO-5: index = points 0–5; standard = raw × 4; low well-being when raw < 13 or any item is 0–1
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "raw", "standard", "band", "positive"),
    [
        ([0, 0, 0, 0, 0], 0, 0, "low_wellbeing", True),
        ([3, 3, 2, 2, 2], 12, 48, "low_wellbeing", True),  # 3+3+2+2+2 = 12 < 13
        ([3, 3, 3, 2, 2], 13, 52, "adequate", False),  # 13, every item ≥ 2
        ([5, 5, 5, 5, 1], 21, 84, "low_wellbeing", True),  # 21 ≥ 13 but item 5 = 1 → low
        ([5, 5, 5, 0, 5], 20, 80, "low_wellbeing", True),  # item 4 = 0 → low
        ([5, 5, 5, 5, 2], 22, 88, "adequate", False),  # every item ≥ 2
        ([5, 5, 5, 5, 5], 25, 100, "adequate", False),
    ],
)
def test_who5_bands(answers: list[int], raw: int, standard: int, band: str, positive: bool) -> None:
    result = run("who5", answers)
    expect(result, raw, band, positive)
    assert result.standard_score == standard


# --------------------------------------------------------------------------------------------------
# PCL-5: index = points 0–4; ≥33 probable PTSD; provisional: items ≥2 with B≥1, C≥1, D≥2, E≥2
# --------------------------------------------------------------------------------------------------


def pcl(points: dict[int, int]) -> list[int | None]:
    return [points.get(n, 0) for n in range(1, 21)]


def test_pcl5_cutoff_and_clusters() -> None:
    # items 1–16 at 2: 16 × 2 = 32 → below the cut-off; clusters B 5 (1–5), C 2 (6–7), D 7 (8–14),
    # E 2 (15, 16) → provisional DSM-5 criteria met although the total is below 33
    r32 = run("pcl5", pcl(dict.fromkeys(range(1, 17), 2)))
    expect(r32, 32, "below_cutoff", False)
    assert dict(r32.subscales) == {
        "cluster_b_count": 5, "cluster_c_count": 2, "cluster_d_count": 7, "cluster_e_count": 2, "provisional_dsm5": True,
    }  # fmt: skip
    # + item 17 at 1 → 33 probable PTSD; item 17 at 1 is not ≥ 2 so E stays 2
    r33 = run("pcl5", pcl({**dict.fromkeys(range(1, 17), 2), 17: 1}))
    expect(r33, 33, "probable_ptsd", True)
    assert r33.subscales["cluster_e_count"] == 2
    # all items at 1: 20 → no item ≥ 2 → no provisional diagnosis
    r20 = run("pcl5", [1] * 20)
    expect(r20, 20, "below_cutoff", False)
    assert r20.subscales["provisional_dsm5"] is False
    expect(run("pcl5", [4] * 20), 80, "probable_ptsd", True)  # 20 × 4


def test_pcl5_provisional_minimum() -> None:
    # exactly B 1 (item 1), C 1 (item 6), D 2 (items 8, 9), E 2 (items 15, 16) at 2 points: total 12
    minimal = run("pcl5", pcl({1: 2, 6: 2, 8: 2, 9: 2, 15: 2, 16: 2}))
    expect(minimal, 12, "below_cutoff", False)
    assert minimal.subscales["provisional_dsm5"] is True
    # item 9 at 1 instead: D has only 1 item ≥ 2 → not met (total 11)
    short = run("pcl5", pcl({1: 2, 6: 2, 8: 2, 9: 1, 15: 2, 16: 2}))
    assert (short.total, short.subscales["cluster_d_count"], short.subscales["provisional_dsm5"]) == (
        11,
        1,
        False,
    )


def test_pcl5_configurable_cutoff() -> None:
    answers = pcl({**dict.fromkeys(range(1, 16), 2), 16: 1})  # 15 × 2 + 1 = 31
    expect(run("pcl5", answers), 31, "below_cutoff", False)
    expect(score(load("pcl5").with_cutoffs(probable_ptsd=31), answers), 31, "probable_ptsd", True)


# --------------------------------------------------------------------------------------------------
# C-SSRS screener: q1–q6 and q6b; index 0 no, 1 yes; q3–q5 only when q2 yes, q6b only when q6 yes
# --------------------------------------------------------------------------------------------------

CSSRS_CASES = [
    ([0, 0, N, N, N, 0, N], "none", False, ()),  # all no
    ([1, 0, N, N, N, 0, N], "low", True, ()),  # wish to be dead only
    ([0, 1, 0, 0, 0, 0, N], "low", True, ()),  # suicidal thoughts, no method/intent/plan
    ([1, 1, 1, 0, 0, 0, N], "moderate", True, ()),  # q3 method
    ([1, 1, 0, 1, 0, 0, N], "high", True, ("suicide_risk",)),  # q4 intent
    ([1, 1, 0, 0, 1, 0, N], "high", True, ("suicide_risk",)),  # q5 plan
    ([0, 0, N, N, N, 1, 0], "moderate", True, ()),  # behaviour, more than 3 months ago
    ([0, 0, N, N, N, 1, 1], "high", True, ("suicide_risk",)),  # behaviour within 3 months
    ([1, 1, 1, 0, 0, 1, 0], "moderate", True, ()),  # q3 + old behaviour
]


@pytest.mark.parametrize(("answers", "risk", "positive", "alerts"), CSSRS_CASES)
def test_cssrs_risk(answers: list[int | None], risk: str, positive: bool, alerts: tuple[str, ...]) -> None:
    result = run("cssrs", answers)
    assert (result.risk, result.band, result.positive, result.alerts) == (risk, risk, positive, alerts)
    assert (result.total, result.standard_score) == (None, None)
    assert json.loads(json.dumps(result.as_json_dict()))["total"] is None


@pytest.mark.parametrize(
    ("answers", "item", "code", "label"),
    [
        ([0, 0, 1, N, N, 0, N], 3, "not_applicable", "3"),  # q2 no → q3 must be skipped
        ([0, 0, N, N, 0, 0, N], 5, "not_applicable", "5"),
        ([0, 1, N, 0, 0, 0, N], 3, "missing", "3"),  # q2 yes → q3 must be answered
        ([0, 0, N, N, N, 1, N], 7, "missing", "6b"),  # q6 yes → q6b must be answered
        ([0, 0, N, N, N, 0, 1], 7, "not_applicable", "6b"),  # q6 no → q6b must be skipped
        ([0, 0, N, N, N, 0, 0], 7, "not_applicable", "6b"),  # even a "no" is an answer
        ([N, 0, N, N, N, 0, N], 1, "missing", "1"),
    ],
)
def test_cssrs_skip_logic_errors(answers: list[int | None], item: int, code: str, label: str) -> None:
    with pytest.raises(AnswerError) as info:
        run("cssrs", answers)
    assert (info.value.item_number, info.value.code) == (item, code)
    assert f"第{label}题" in info.value.message_zh
    assert f"Item {label}" in info.value.message_en


def cssrs_reference(q: list[int | None]) -> str:
    """The triage in INSTRUMENTS.md, written independently of the data file."""
    yes = [a == 1 for a in q]
    if yes[3] or yes[4] or (yes[5] and yes[6]):
        return "high"
    if yes[2] or yes[5]:
        return "moderate"
    if yes[0] or yes[1]:
        return "low"
    return "none"


@st.composite
def cssrs_answers(draw: st.DrawFn) -> list[int | None]:
    yn = st.integers(0, 1)
    q1, q2, q6 = draw(yn), draw(yn), draw(yn)
    q345: list[int | None] = [draw(yn), draw(yn), draw(yn)] if q2 == 1 else [None, None, None]
    q6b = draw(yn) if q6 == 1 else None
    return [q1, q2, *q345, q6, q6b]


@given(cssrs_answers())
def test_cssrs_risk_matches_reference(answers: list[int | None]) -> None:
    result = run("cssrs", answers)
    assert result.risk == cssrs_reference(answers)
    assert ("suicide_risk" in result.alerts) == (result.risk == "high")
    assert result.positive == (result.risk != "none")


@given(cssrs_answers(), st.integers(0, 6), st.integers(0, 1))
def test_cssrs_answer_to_a_skipped_question_is_rejected(
    answers: list[int | None], position: int, value: int
) -> None:
    if answers[position] is not None:
        return
    bad = list(answers)
    bad[position] = value
    with pytest.raises(AnswerError) as info:
        run("cssrs", bad)
    assert (info.value.item_number, info.value.code) == (position + 1, "not_applicable")


def test_is_enabled() -> None:
    items = load("cssrs").items
    assert [is_enabled(it, [0, 0, N, N, N, 1, N]) for it in items] == [
        True,
        True,
        False,
        False,
        False,
        True,
        True,
    ]


# --------------------------------------------------------------------------------------------------
# Answer errors
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instrument_id", "answers", "item", "code", "zh", "en"),
    [
        ("phq9", [0] * 8, 0, "count", "需要 9 个答案，实际收到 8 个", "needs 9 answers; got 8"),
        ("phq9", [0] * 10, 0, "count", "实际收到 10 个", "got 10"),
        (
            "phq9",
            [0, 0, 0, 0, 0, 0, 0, 0, 4],
            9,
            "out_of_range",
            "第9题的答案 4 超出范围，应为 0–3",
            "Item 9: answer 4 is out of range (0–3)",
        ),
        ("phq9", [0, -1, 0, 0, 0, 0, 0, 0, 0], 2, "out_of_range", "第2题", "Item 2"),
        ("phq9", [0, 0, None, 0, 0, 0, 0, 0, 0], 3, "missing", "第3题未作答", "Item 3 is required"),
        ("phq9", [0, 0, 0, True, 0, 0, 0, 0, 0], 4, "invalid", "第4题", "Item 4"),
        ("phq9", [0, 0, 0, 0, "1", 0, 0, 0, 0], 5, "invalid", "第5题", "Item 5"),
        ("who5", [0, 0, 0, 0, 6], 5, "out_of_range", "应为 0–5", "(0–5)"),
        ("ad8", [3, 0, 0, 0, 0, 0, 0, 0], 1, "out_of_range", "应为 0–2", "(0–2)"),
    ],
)
def test_answer_errors(
    instrument_id: str, answers: list[Any], item: int, code: str, zh: str, en: str
) -> None:
    with pytest.raises(AnswerError) as info:
        run(instrument_id, answers)
    err = info.value
    assert (err.item_number, err.code) == (item, code)
    assert zh in err.message_zh and en in err.message_en
    assert zh in str(err) and en in str(err)


def test_check_answers_returns_tuple() -> None:
    assert check_answers(load("phq2"), [1, 2]) == (1, 2)


# --------------------------------------------------------------------------------------------------
# Properties over every instrument
# --------------------------------------------------------------------------------------------------


def valid_answers(instrument: Instrument) -> st.SearchStrategy[list[int | None]]:
    if instrument.id == "cssrs":
        return cssrs_answers()
    return st.tuples(*(st.integers(0, len(item.options) - 1) for item in instrument.items)).map(list)


SUM_INSTRUMENTS = [i for i in INSTRUMENT_IDS if i != "cssrs"]


@pytest.mark.parametrize("instrument_id", SUM_INSTRUMENTS)
@settings(max_examples=60)
@given(data=st.data())
def test_totals_in_range(instrument_id: str, data: st.DataObject) -> None:
    instrument = load(instrument_id)
    answers = data.draw(valid_answers(instrument))
    result = score(instrument, answers)
    lo, hi = instrument.scoring.total_range or (None, None)
    assert result.total is not None and lo is not None and hi is not None
    assert lo <= result.total <= hi
    expected_total = sum(
        item.points[a] for item, a in zip(instrument.items, answers, strict=True) if a is not None
    )
    assert result.total == expected_total
    band = instrument.band(result.band)
    assert result.positive == band.positive and result.band_label == band.label.zh
    assert result.risk is None
    if instrument.scoring.standard_multiplier is None:
        assert result.standard_score is None
    else:
        assert result.standard_score == int(result.total * instrument.scoring.standard_multiplier)
    basis = result.standard_score if instrument.scoring.band_basis == "standard_score" else result.total
    assert basis is not None
    natural = next(b for b in instrument.bands if b.contains(basis))
    if not instrument.scoring.escalations:
        assert band == natural
    else:  # an escalation condition can only put the result in an escalation's target band
        assert band == natural or band.code in {e.band for e in instrument.scoring.escalations}
    json.dumps(result.as_json_dict(), ensure_ascii=False)
    assert list(result.as_json_dict()) == [
        "instrument", "version", "total", "standard_score", "band", "band_label", "positive", "subscales", "alerts", "risk",
    ]  # fmt: skip


REVERSE_ITEMS = [(i.id, item.number) for i in all_instruments() for item in i.items if item.reverse]


def test_reverse_items_are_exactly_the_documented_ones() -> None:
    documented = (
        [("sds", n) for n in SDS_REVERSE]
        + [("sas", n) for n in SAS_REVERSE]
        + [("epds", n) for n in (3, 5, 6, 7, 8, 9, 10)]
        + [("gds15", n) for n in GDS_REVERSE]
    )
    assert sorted(REVERSE_ITEMS) == sorted(documented)


@pytest.mark.parametrize(("instrument_id", "number"), REVERSE_ITEMS)
def test_reverse_item_points_mirror_forward_points(instrument_id: str, number: int) -> None:
    item = load(instrument_id).item(number)
    forward = [option.points for option in item.options]
    n = len(forward)
    # option i on a reverse item scores what option n − 1 − i scores on a forward item
    assert [item.points[i] for i in range(n)] == [forward[n - 1 - i] for i in range(n)]


# A forward and a reverse item of the same instrument with the same option points.
SYMMETRY_PAIRS = [("sds", 1, 2), ("sas", 1, 5), ("epds", 1, 3), ("epds", 4, 10), ("gds15", 2, 1)]


@pytest.mark.parametrize(("instrument_id", "forward", "reverse"), SYMMETRY_PAIRS)
@settings(max_examples=40)
@given(data=st.data())
def test_reverse_scoring_symmetric(
    instrument_id: str, forward: int, reverse: int, data: st.DataObject
) -> None:
    instrument = load(instrument_id)
    assert not instrument.item(forward).reverse and instrument.item(reverse).reverse
    n = len(instrument.item(forward).options)
    answers = data.draw(valid_answers(instrument))
    a, i = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    # forward = a, reverse = i  scores  P[a] + P[n−1−i];  forward = n−1−i, reverse = n−1−a  scores  P[n−1−i] + P[a]
    one, two = list(answers), list(answers)
    one[forward - 1], one[reverse - 1] = a, i
    two[forward - 1], two[reverse - 1] = n - 1 - i, n - 1 - a
    assert score(instrument, one).total == score(instrument, two).total
    # and the reverse item's own contribution is the forward points of option n − 1 − i
    base, probe = list(one), list(one)
    base[reverse - 1] = n - 1  # reverse item at its lowest-scoring option
    probe[reverse - 1] = i
    lowest = instrument.item(reverse).points[n - 1]
    forward_points = [o.points for o in instrument.item(forward).options]
    total_base = score(instrument, base).total
    total_probe = score(instrument, probe).total
    assert total_base is not None and total_probe is not None
    assert total_probe - total_base == forward_points[n - 1 - i] - lowest


@settings(max_examples=80)
@given(st.lists(st.integers(0, 3), min_size=8, max_size=8), st.integers(0, 3))
def test_phq9_alert_whatever_the_total(first_eight: list[int], item9: int) -> None:
    result = run("phq9", [*first_eight, item9])
    assert ("suicide_risk" in result.alerts) == (item9 > 0)


@settings(max_examples=80)
@given(st.lists(st.integers(0, 3), min_size=9, max_size=9), st.integers(0, 3))
def test_epds_alert_whatever_the_total(first_nine: list[int], item10: int) -> None:
    result = run("epds", [*first_nine, item10])
    # item 10 is reverse: index 3 ("never") = 0 points, indexes 0–2 score 3, 2, 1
    assert ("self_harm" in result.alerts) == (item10 < 3)


@settings(max_examples=60)
@given(st.lists(st.integers(0, 4), min_size=90, max_size=90))
def test_scl90_positive_rule(answers: list[int]) -> None:
    result = run("scl90", list(answers))
    points = [a + 1 for a in answers]
    total = sum(points)
    positive_items = sum(1 for p in points if p >= 2)
    factors = [SOMATIZATION, OBSESSIVE, INTERPERSONAL, DEPRESSION, ANXIETY, HOSTILITY,
               [13, 25, 47, 50, 70, 75, 82], [8, 18, 43, 68, 76, 83], [7, 16, 35, 62, 77, 84, 85, 87, 88, 90]]  # fmt: skip
    means = [Fraction(sum(points[n - 1] for n in f), len(f)) for f in factors]
    assert result.positive == (total > 160 or positive_items > 43 or any(m >= 2 for m in means))
    assert result.subscales["positive_items"] == positive_items
    # total/90 never ends in an exact half at the third decimal, so round() (half-even) agrees with half-up
    assert result.subscales["total_mean"] == float(round(Fraction(total, 90), 2))


@settings(max_examples=80)
@given(st.lists(st.integers(0, 5), min_size=5, max_size=5))
def test_who5_rule(answers: list[int]) -> None:
    result = run("who5", list(answers))
    assert result.standard_score == sum(answers) * 4
    assert (result.band == "low_wellbeing") == (sum(answers) < 13 or min(answers) <= 1)


@settings(max_examples=80)
@given(st.lists(st.integers(0, 4), min_size=20, max_size=20))
def test_pcl5_provisional_rule(answers: list[int]) -> None:
    result = run("pcl5", list(answers))

    def count(items: range) -> int:
        return sum(1 for n in items if answers[n - 1] >= 2)

    b, c, d, e = count(range(1, 6)), count(range(6, 8)), count(range(8, 15)), count(range(15, 21))
    assert result.subscales["provisional_dsm5"] == (b >= 1 and c >= 1 and d >= 2 and e >= 2)
    assert result.positive == (sum(answers) >= 33)


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
@settings(max_examples=30)
@given(data=st.data())
def test_out_of_range_names_the_item(instrument_id: str, data: st.DataObject) -> None:
    instrument = load(instrument_id)
    answers = data.draw(valid_answers(instrument))
    position = data.draw(st.sampled_from([i for i, a in enumerate(answers) if a is not None]))
    bad = list(answers)
    bad[position] = data.draw(
        st.one_of(st.integers(max_value=-1), st.integers(min_value=len(instrument.items[position].options)))
    )
    with pytest.raises(AnswerError) as info:
        score(instrument, bad)
    assert (info.value.item_number, info.value.code) == (position + 1, "out_of_range")
    assert f"第{instrument.items[position].label}题" in info.value.message_zh


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
def test_wrong_count(instrument_id: str) -> None:
    instrument = load(instrument_id)
    for answers in ([], [0] * (len(instrument.items) + 1)):
        with pytest.raises(AnswerError) as info:
            score(instrument, answers)
        assert (info.value.item_number, info.value.code) == (0, "count")


def test_result_is_immutable() -> None:
    result = run("phq2", [0, 0])
    with pytest.raises(AttributeError):
        result.total = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.subscales["x"] = 1  # type: ignore[index]
