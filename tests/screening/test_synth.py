"""Synthetic screening responses (``screening/synth.py``) and the ``--screenings`` option of synth.

Every stored response must be what the real scoring engine gives for its answers, in a township of
the region with the right code columns; generation is deterministic; filling is idempotent and
never touches the patients; asking for screenings does not change the patients a seed gives.
"""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinqiao.core.models import InRegion
from xinqiao.patients import synth as patient_synth
from xinqiao.patients.models import Patient
from xinqiao.screening import rules, synth
from xinqiao.screening.instruments import load
from xinqiao.screening.models import ScreeningResponse

TODAY = date(2026, 3, 16)


@given(seed=st.integers(0, 10_000), instrument=st.sampled_from([i for i, _w in synth.INSTRUMENT_WEIGHTS]),
       distress=st.sampled_from([d for _s, d in synth.DISTRESS]))
@settings(max_examples=150, deadline=None)
def test_generated_answers_are_valid_for_the_scale(seed: int, instrument: str, distress: float) -> None:
    answers = synth.answers_for(random.Random(seed), instrument, distress)
    rules.check_answers(load(instrument), answers)  # raises AnswerError when not valid (skip logic included)


def test_distress_raises_the_score() -> None:
    rng = random.Random(1)
    low = [rules.score(load("phq9"), synth.answers_for(rng, "phq9", 0.12)).total for _ in range(300)]
    high = [rules.score(load("phq9"), synth.answers_for(rng, "phq9", 0.85)).total for _ in range(300)]
    assert sum(high) > 2 * sum(low)


@pytest.mark.django_db
def test_responses_are_scored_by_the_engine_and_placed_in_the_region() -> None:
    report = synth.ensure_screenings(300, population_prefix="t:1:", seed=1, region="440106", today=TODAY, years=1)
    assert report is not None and report["screenings"] == 300
    rows = list(synth.screenings_of("t:1:"))
    assert len(rows) == 300
    positives = 0
    for r in rows:
        result = rules.score(load(r.instrument), r.answers)
        assert (r.total, r.standard_score, r.band, r.positive, r.alerts, r.risk or None) == (
            result.total, result.standard_score, result.band, result.positive, list(result.alerts), result.risk)
        assert r.instrument_version == result.version
        assert r.region_id.startswith("440106") and len(r.region_id) == 9
        assert {c: getattr(r, c) for c in InRegion.region_columns(r.region_id)} == InRegion.region_columns(r.region_id)
        assert r.campaign_id is None and r.participant_name == "" and r.source in ("public", "api")
        assert date(2025, 3, 16) <= r.submitted_at.date() <= TODAY
        positives += r.positive
    assert 0 < positives < 150


@pytest.mark.django_db
def test_deterministic_and_idempotent() -> None:
    plan = synth.make_plan(50, seed=3, prefix="x", region="440106", today=TODAY, years=1)
    assert list(synth.chunks(plan)) == list(synth.chunks(plan))
    assert synth.ensure_screenings(40, population_prefix="t:2:", seed=3, region="440106", today=TODAY) is not None
    first = dict(synth.screenings_of("t:2:").values_list("submission_key", "answers"))
    assert synth.ensure_screenings(40, population_prefix="t:2:", seed=3, region="440106", today=TODAY) is None
    ScreeningResponse.objects.filter(submission_key="t:2:s39").delete()  # an interrupted fill
    assert synth.ensure_screenings(40, population_prefix="t:2:", seed=3, region="440106", today=TODAY) is not None
    assert dict(synth.screenings_of("t:2:").values_list("submission_key", "answers")) == first


@pytest.mark.django_db
def test_the_option_does_not_change_the_patients() -> None:
    def build(prefix: str, screenings: int) -> list[tuple[object, ...]]:
        report = patient_synth.build(patient_synth.SynthOptions(
            patients=12, seed=9, years=1, region="440106", today=TODAY, workers=1, key_prefix=prefix,
            screenings=screenings))
        assert ("screenings" in report.as_dict()) == bool(screenings)
        return list(Patient.objects.filter(submission_key__startswith=prefix).order_by("id").values_list(
            "township_code", "diagnosis", "registered_on", "status", "last_followup_date", "next_followup_due"))

    without = build("a:", 0)
    assert not synth.screenings_of("a:").exists()
    patient_synth.clear_population("a:")
    assert build("a:", 25) == without  # same prefix: same ID numbers, same histories
    assert synth.screenings_of("a:").count() == 25
    patient_synth.clear_population("a:")
    assert not synth.screenings_of("a:").exists()
