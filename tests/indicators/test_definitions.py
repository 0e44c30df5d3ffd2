"""Indicator definitions as data: the shipped file is complete and valid; a bad file names the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from xinqiao.indicators import definitions
from xinqiao.indicators.definitions import DefinitionError, get, load, status, target_for

PATIENT = ["prevalence", "managed_rate", "standard_management_rate", "face_to_face_rate", "medication_rate",
           "regular_medication_rate", "schizophrenia_medication_rate", "stable_rate", "community_rehab_rate",
           "incident_rate", "minor_trouble_rate"]
SERVICE = ["township_groups", "village_rooms", "school_rooms", "university_counsellors", "psychiatrists_per_100k",
           "province_hotline", "crisis_teams_province", "crisis_teams_city", "psychiatric_hospital_psych_clinic",
           "general_hospital_psych_clinic", "county_rehab", "awareness_urban", "awareness_rural",
           "awareness_students", "depression_treatment_increase"]


def test_every_indicator_of_domain_6_is_defined() -> None:
    codes = [i.code for i in definitions.all_indicators()]
    assert codes == PATIENT + SERVICE
    assert [i.code for i in definitions.patient_indicators()] == PATIENT
    assert all(get(c).group == "service" for c in SERVICE)


@pytest.mark.parametrize(("code", "year", "value"), [
    ("prevalence", 2021, 4.5), ("managed_rate", 2020, 80), ("standard_management_rate", 2021, 80),
    ("regular_medication_rate", 2021, 60), ("schizophrenia_medication_rate", 2020, 80),
    ("community_rehab_rate", 2020, 50), ("community_rehab_rate", 2021, 60), ("township_groups", 2020, 70),
    ("township_groups", 2021, 100), ("village_rooms", 2021, 80), ("school_rooms", 2021, 100),
    ("crisis_teams_province", 2020, 100), ("crisis_teams_city", 2020, 70), ("general_hospital_psych_clinic", 2021, 40),
    ("county_rehab", 2020, 70), ("awareness_urban", 2020, 70), ("awareness_rural", 2020, 50),
    ("awareness_students", 2020, 80), ("depression_treatment_increase", 2020, 50), ("province_hotline", 2020, 1),
])
def test_targets_of_domain_6(code: str, year: int, value: float) -> None:
    target = target_for(get(code), year)
    assert target is not None and target.value == value and target.year == year


def test_target_in_force_and_zones() -> None:
    rehab = get("community_rehab_rate")
    assert target_for(rehab, 2019).value == 50   # before the first target: the first
    assert target_for(rehab, 2026).value == 60   # the latest one set before
    psych = get("psychiatrists_per_100k")
    assert target_for(psych, 2026, "440106").value == 3.8   # 广东: east
    assert target_for(psych, 2026, "510104").value == 2.8   # 四川: west
    assert target_for(psych, 2026).value == 3.8             # without a region: the stricter
    assert target_for(get("face_to_face_rate"), 2026) is None
    assert "二(三)3" in target_for(psych, 2020).note


def test_status_traffic_light() -> None:
    managed = get("managed_rate")
    assert status(managed, 80.0, 2021) == "met"
    assert status(managed, 72.0, 2021) == "near"     # within 10 % of 80
    assert status(managed, 71.9, 2021) == "missed"
    assert status(managed, None, 2021) == "none"
    assert status(get("incident_rate"), 3.0, 2021) == "none"


def test_value_uses_the_scale() -> None:
    assert get("prevalence").value(9, 2000) == pytest.approx(4.5)
    assert get("managed_rate").value(4, 5) == pytest.approx(80)
    assert get("psychiatrists_per_100k").value(38, 1_000_000) == pytest.approx(3.8)
    assert get("managed_rate").value(0, 0) is None
    assert get("province_hotline").value(2, None) == 2


def _write(tmp_path: Path, change: Any) -> Path:
    raw = json.loads(definitions.DATA_FILE.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "indicators.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r["indicators"][1].update(unit="percentage"), r"indicators\[managed_rate\]\.unit"),
    (lambda r: r["indicators"][1].pop("name_zh"), r"indicators\[managed_rate\]\.name_zh is missing"),
    (lambda r: r["indicators"][2].update(direction="up"), r"indicators\[standard_management_rate\]\.direction"),
    (lambda r: r["indicators"][1]["targets"][0].update(comparator="<="), r"managed_rate\]\.targets comparator"),
    (lambda r: r["indicators"][1]["targets"][0].update(year="2020"), r"targets\[0\]\.year has the wrong type"),
    (lambda r: r["indicators"][1].update(levels=[5]), r"managed_rate\]\.levels"),
    (lambda r: r["indicators"][12].update(drilldown=True), r"village_rooms\]\.drilldown"),
    (lambda r: r["indicators"].append(dict(r["indicators"][0])), r"indicators\[prevalence\] is defined twice"),
    (lambda r: r["rules"]["standard_management"].update(min_followups=0), r"rules\.standard_management\.min_followups"),
    (lambda r: r["rules"].pop("face_to_face_methods"), r"rules\.face_to_face_methods is missing"),
    (lambda r: r["status"].update(near_margin=2), r"status\.near_margin"),
])
def test_bad_file_names_the_key(tmp_path: Path, change: Any, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        load(_write(tmp_path, change))


def test_shipped_file_loads(tmp_path: Path) -> None:
    assert load(_write(tmp_path, lambda r: None)).indicators == definitions.all_indicators()
    with pytest.raises(KeyError):
        get("no_such_indicator")
