"""Drill-down: the patient lists behind a number agree with it, stay within the caller's scope, refuse nonsense."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.indicators.factories import followup, patient
from xinqiao.core.models import Region
from xinqiao.indicators import drilldown, engine
from xinqiao.indicators.periods import parse
from xinqiao.patients.models import Patient

pytestmark = pytest.mark.django_db
Q3 = parse("2026Q3")


@pytest.fixture
def register(towns: list[Region]) -> dict[str, Patient]:
    a, b = towns
    seen_a, unseen_a, seen_b = patient(a), patient(a), patient(b)
    followup(seen_a, date(2026, 9, 1))
    followup(seen_b, date(2026, 9, 1), method=3)
    return {"seen_a": seen_a, "unseen_a": unseen_a, "seen_b": seen_b}


def test_lists_agree_with_the_counts(register: dict[str, Patient], towns: list[Region]) -> None:
    counts = engine.calculate(Q3, ["managed_rate", "face_to_face_rate"])
    for (code, region), (num, den) in counts.items():
        assert drilldown.patients(code, Q3, region, "numerator").count() == num
        assert drilldown.patients(code, Q3, region, "denominator").count() == den
        assert drilldown.patients(code, Q3, region, "missing").count() == den - num
    assert list(drilldown.patients("managed_rate", Q3, towns[0].city_code, "missing")) == [register["unseen_a"]]


def test_base_queryset_keeps_the_scope(register: dict[str, Patient], cast: dict[str, Any], towns: list[Region]) -> None:
    doctor = cast["community_doctor_a"]
    base = Patient.objects.restrict(doctor)
    listed = set(drilldown.patients("managed_rate", Q3, towns[0].city_code, "numerator", base=base))
    assert listed == {register["seen_a"]}          # seen_b is in township B, outside the doctor's scope
    nobody = Patient.objects.restrict(cast["no_role"])
    assert not drilldown.patients("managed_rate", Q3, towns[0].city_code, "numerator", base=nobody).exists()


@pytest.mark.parametrize(("code", "which"), [
    ("nope", "numerator"), ("village_rooms", "numerator"), ("managed_rate", "everyone"),
    ("prevalence", "denominator"), ("prevalence", "missing"),
])
def test_refuses_what_has_no_list(code: str, which: str, towns: list[Region]) -> None:
    with pytest.raises(ValueError, match="“"):
        drilldown.patients(code, Q3, towns[0].code, which)


def test_prevalence_numerator_is_the_register(register: dict[str, Patient], towns: list[Region]) -> None:
    assert drilldown.patients("prevalence", Q3, towns[0].province_code, "numerator").count() == 3
