"""The indicators API: definitions for anyone signed in; results of a region and its sub-regions, scoped.

403 without ``indicators.view_indicatorresult``, 404 for a region outside the caller's scope, 422
(field error) for a malformed period; the status of each result is the traffic light against the year's target.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.helpers import verified_client
from tests.indicators.test_views import BEIJING_TOWN, CITY, COUNTY_A, COUNTY_B, stored
from xinqiao.indicators import definitions

pytestmark = pytest.mark.django_db

RESULTS = "/api/v1/indicators/results"


@pytest.fixture
def results(towns: list) -> None:
    stored("managed_rate", CITY, 85, 100)
    stored("managed_rate", COUNTY_A, 30, 50)
    stored("managed_rate", COUNTY_B, 38, 50)
    stored("face_to_face_rate", COUNTY_A, 20, 30)
    stored("managed_rate", towns[0].code, 12, 20)
    stored("managed_rate", "440303", 1, 100)
    stored("managed_rate", CITY, 70, 100, "2026Q2")


def _by_indicator(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["indicator"]: r for r in rows}


def test_definitions_list_every_indicator_with_targets(cast: dict) -> None:
    response = verified_client(cast["police_a"]).get("/api/v1/indicators/definitions")
    assert response.status_code == 200
    body = response.json()
    assert [d["code"] for d in body] == [i.code for i in definitions.all_indicators()]
    managed = next(d for d in body if d["code"] == "managed_rate")
    assert managed["name_zh"] == "在册患者管理率" and managed["unit"] == "percent"
    assert {(t["year"], t["value"]) for t in managed["targets"]} == {(2020, 80.0), (2021, 80.0)}
    assert all(t["source"] for t in managed["targets"])
    assert Client().get("/api/v1/indicators/definitions").status_code == 401


def test_results_of_the_users_region_and_sub_regions(cast: dict, results: None) -> None:
    response = verified_client(cast["regulator"]).get(RESULTS + "?period=2026Q3")
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == "2026Q3" and body["period_type"] == "quarter"
    assert body["periods"] == ["2026Q3", "2026Q2"]
    assert body["region"]["code"] == CITY
    own = _by_indicator(body["region"]["results"])
    assert own["managed_rate"]["value"] == 85.0 and own["managed_rate"]["status"] == "met"
    assert own["managed_rate"]["target"] == 80.0 and own["managed_rate"]["target_year"] == 2021
    subs = {s["code"]: s for s in body["subregions"]}
    assert set(subs) == {COUNTY_A, COUNTY_B}  # not Shenzhen's county, not the township
    assert _by_indicator(subs[COUNTY_A]["results"])["managed_rate"]["status"] == "missed"
    assert _by_indicator(subs[COUNTY_B]["results"])["managed_rate"]["status"] == "near"
    assert set(_by_indicator(subs[COUNTY_A]["results"])) == {"managed_rate", "face_to_face_rate"}


def test_results_one_indicator_and_a_sub_region(cast: dict, results: None, towns: list) -> None:
    client = verified_client(cast["regulator"])
    body = client.get(RESULTS + f"?period=2026Q3&region={COUNTY_A}&indicator=managed_rate").json()
    assert [r["indicator"] for r in body["region"]["results"]] == ["managed_rate"]
    assert [s["code"] for s in body["subregions"]] == [towns[0].code]
    assert client.get(RESULTS + "?indicator=nothing").status_code == 404


def test_results_scope_permission_and_bad_period(cast: dict, results: None) -> None:
    regulator = verified_client(cast["regulator"])
    assert regulator.get(RESULTS + f"?region={BEIJING_TOWN}").status_code == 404
    assert regulator.get(RESULTS + "?region=44").status_code == 404
    county = verified_client(cast["mhc_staff_a"])
    assert county.get(RESULTS + f"?region={COUNTY_B}").status_code == 404
    assert county.get(RESULTS).json()["region"]["code"] == COUNTY_A
    assert verified_client(cast["community_doctor_a"]).get(RESULTS).status_code == 403
    assert Client().get(RESULTS).status_code == 401
    bad = regulator.get(RESULTS + "?period=2026-13")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["field"] == "period" and "2026-13" in bad.json()["detail"][0]["message"]


def test_default_period_is_the_latest_stored_quarter(cast: dict, results: None) -> None:
    stored("managed_rate", CITY, 1, 2, "2026-08")  # a month: the default stays the quarter
    assert verified_client(cast["regulator"]).get(RESULTS).json()["period"] == "2026Q3"
