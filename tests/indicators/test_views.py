"""The regulator pages: dashboard, indicator drill-down, the patient lists behind a figure, on-demand refresh.

Stored results are written directly (``stored``) with the figures each test needs; the patient list
goes through the engine's real drill-down SQL over a small register (``tests.indicators.factories``).
Scope: a region outside the user's region answers 404, a role without the permission 403.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.helpers import login_verified, verified_client
from xinqiao.core.models import AuditAction, AuditEvent, InRegion
from xinqiao.core.regions_data import level_of
from xinqiao.indicators import definitions, periods
from xinqiao.indicators.models import IndicatorResult, IndicatorRun

pytestmark = pytest.mark.django_db

CITY, COUNTY_A, COUNTY_B = "4401", "440106", "440111"
BEIJING_TOWN = "110101001"
DASHBOARD = "/indicators/"


def stored(code: str, region: str, numerator: int, denominator: int | None, period: str = "2026Q3") -> IndicatorResult:
    """One stored result row as the engine writes it (value from the definition's unit)."""
    p = periods.parse(period)
    ind = definitions.get(code)
    return IndicatorResult.objects.create(
        indicator=code, level=level_of(region), period=p.key,
        period_type=p.type, period_start=p.start, period_end=p.end, numerator=numerator, denominator=denominator,
        value=ind.value(numerator, denominator), computed_at=timezone.now(), region_id=region,
        **InRegion.region_columns(region))


def chart_json(response: Any) -> dict[str, Any]:
    match = re.search(r'<script id="indicator-chart-data" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    assert match, "no chart data on the page"
    return dict(json.loads(match.group(1)))


@pytest.fixture
def city_results(towns: list) -> dict[str, IndicatorResult]:
    """managed_rate for the city (met), county A (missed), county B (near) and a township; two earlier quarters."""
    town_a, _town_b = towns
    rows = {
        "city": stored("managed_rate", CITY, 85, 100),
        "county_a": stored("managed_rate", COUNTY_A, 30, 50),     # 60% → missed (target 80%)
        "county_b": stored("managed_rate", COUNTY_B, 38, 50),     # 76% → near (within 10%)
        "town_a": stored("managed_rate", town_a.code, 12, 20),
        "prev": stored("managed_rate", CITY, 70, 100, "2026Q2"),
        "older": stored("managed_rate", CITY, 60, 100, "2026Q1"),
        "shenzhen": stored("managed_rate", "440303", 1, 100),     # another city of the province
    }
    stored("face_to_face_rate", CITY, 50, 85)
    return rows


def test_dashboard_shows_each_indicator_against_its_target(cast: dict, city_results: dict) -> None:
    client = verified_client(cast["regulator"])
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    row = re.search(r'<tr id="ind-managed_rate" data-status="(\w+)">(.*?)</tr>', html, re.S)
    assert row and row.group(1) == "met"
    assert "85.0%" in row.group(2) and "70.0%" in row.group(2)  # this quarter, previous quarter
    assert "2021" in row.group(2) and "国卫疾控发〔2018〕44号" in row.group(2)  # the target's year and source
    assert "≥ 80.0%" in row.group(2)
    # An indicator without a national target: no light colour, said so.
    assert 'id="ind-face_to_face_rate" data-status="none"' in html
    # An indicator not computed at city level is not listed (the provincial hotline).
    assert 'id="ind-province_hotline"' not in html
    assert response.context["period"].key == "2026Q3"


def test_dashboard_bars_sorted_trend_and_bar_fallback_at_city_level(cast: dict, city_results: dict) -> None:
    response = verified_client(cast["regulator"]).get(DASHBOARD + "?focus=managed_rate")
    data = chart_json(response)
    assert [s["code"] for s in data["subregions"]] == [COUNTY_B, COUNTY_A]  # best first; no Shenzhen county
    assert [s["status"] for s in data["subregions"]] == ["near", "missed"]
    assert data["trend"]["periods"][-3:] == ["2026Q1", "2026Q2", "2026Q3"]
    assert data["trend"]["values"][-3:] == [60.0, 70.0, 85.0]
    assert data["target"] == 80.0
    assert data["map"] is None  # counties have no boundary file
    html = response.content.decode()
    assert 'id="map-fallback"' in html and 'id="chart-map"' not in html
    assert 'id="chart-bars"' in html and 'id="chart-trend"' in html
    # The sub-region table links one level down.
    assert f'href="/indicators/managed_rate/?period=2026Q3&amp;region={COUNTY_A}"' in html


def test_province_level_has_the_choropleth_and_its_notice(cast: dict, city_results: dict) -> None:
    stored("managed_rate", "44", 80, 100)
    stored("managed_rate", "4403", 1, 100)
    response = verified_client(cast["regulator_province"]).get(DASHBOARD)
    assert response.status_code == 200
    data = chart_json(response)
    assert data["map"]["url"].endswith("indicators/boundaries/44.json")
    assert {s["code"] for s in data["subregions"]} == {CITY, "4403"}
    html = response.content.decode()
    assert 'id="chart-map"' in html and 'id="boundary-notice"' in html
    assert "ODbL" in html


def test_boundary_file_matches_the_region_codes() -> None:
    from django.contrib.staticfiles import finders

    from xinqiao.core.models import Region

    with open(finders.find("indicators/boundaries/44.json"), encoding="utf-8") as fh:
        geo = json.load(fh)
    codes = {f["properties"]["code"] for f in geo["features"]}
    assert len(codes) == 21
    assert codes == set(Region.objects.filter(parent_id="44").values_list("code", flat=True))
    with open(finders.find("indicators/boundaries/provinces.json"), encoding="utf-8") as fh:
        provinces = {f["properties"]["code"] for f in json.load(fh)["features"]}
    assert set(Region.objects.filter(level=1).values_list("code", flat=True)) <= provinces


def test_sub_region_within_scope_opens_outside_is_404(cast: dict, city_results: dict, towns: list) -> None:
    regulator = verified_client(cast["regulator"])
    assert regulator.get(DASHBOARD + f"?region={COUNTY_B}").status_code == 200
    assert regulator.get(DASHBOARD + f"?region={BEIJING_TOWN}").status_code == 404
    assert regulator.get(DASHBOARD + "?region=44").status_code == 404  # above the user's region
    assert regulator.get(DASHBOARD + "?region=999999").status_code == 404
    county = verified_client(cast["mhc_staff_a"])
    assert county.get(DASHBOARD + f"?region={COUNTY_A}").status_code == 200
    assert county.get(DASHBOARD + f"?region={COUNTY_B}").status_code == 404
    assert county.get(reverse("indicators:detail", kwargs={"code": "managed_rate"})
                      + f"?region={COUNTY_B}").status_code == 404


def test_county_user_sees_only_own_county(cast: dict, city_results: dict, towns: list) -> None:
    response = verified_client(cast["mhc_staff_a"]).get(DASHBOARD)
    data = chart_json(response)
    assert [s["code"] for s in data["subregions"]] == [towns[0].code]
    assert "4401" not in [c.code for c, _url in response.context["crumbs"]]


def test_without_permission_403(cast: dict, city_results: dict) -> None:
    for user in ("community_doctor_a", "police_a", "psychiatrist_a"):
        client = verified_client(cast[user])
        assert client.get(DASHBOARD).status_code == 403
        assert client.get("/indicators/managed_rate/").status_code == 403
        assert client.get("/indicators/managed_rate/patients/").status_code == 403
    assert Client().get(DASHBOARD).status_code == 302


def test_bad_period_is_400_naming_it_and_unknown_indicator_404(cast: dict) -> None:
    client = verified_client(cast["regulator"])
    response = client.get(DASHBOARD + "?period=2026Q9")
    assert response.status_code == 400 and "2026Q9" in response.content.decode()
    assert client.get("/indicators/no_such_indicator/").status_code == 404


def test_detail_page_drills_down_and_offers_patient_lists(cast: dict, city_results: dict) -> None:
    response = verified_client(cast["regulator"]).get("/indicators/managed_rate/?period=2026Q3")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="indicator-value">85.0%' in html
    for which in ("numerator", "denominator", "missing"):
        assert f'id="patients-{which}"' in html
    # County A's page lists its township and links further down.
    county = verified_client(cast["regulator"]).get(f"/indicators/managed_rate/?period=2026Q3&region={COUNTY_A}")
    assert [s.code for s in county.context["subregions"]] == [city_results["town_a"].region_id]
    # Prevalence's denominator is a population: only the numerator has a patient list.
    prevalence = verified_client(cast["regulator"]).get("/indicators/prevalence/")
    assert [w for w, _l, _u in prevalence.context["patient_links"]] == ["numerator"]
    # sysadmin may read the figures but not patients: no links.
    sysadmin = verified_client(cast["sysadmin"]).get("/indicators/managed_rate/")
    assert sysadmin.status_code == 200 and sysadmin.context["patient_links"] == []


@pytest.fixture
def register(towns: list) -> dict[str, Any]:
    """Township A: one patient followed up in 2026Q3, one never; township B: one never followed up."""
    from tests.indicators.factories import followup, patient

    town_a, town_b = towns
    seen = patient(town_a, registered_on=date(2025, 3, 1))
    followup(seen, date(2026, 8, 10))
    unseen = patient(town_a, registered_on=date(2025, 3, 1))
    elsewhere = patient(town_b, registered_on=date(2025, 3, 1))
    return {"seen": seen, "unseen": unseen, "elsewhere": elsewhere}


def test_patient_list_is_scoped_masked_and_audited(cast: dict, register: dict, towns: list) -> None:
    doctor = cast["mhc_staff_a"]
    client = verified_client(doctor)
    url = f"/indicators/managed_rate/patients/?period=2026Q3&region={towns[0].code}&which=missing"
    response = client.get(url)
    assert response.status_code == 200
    listed = [p.pk for p, _person, _shown in response.context["rows"]]
    assert listed == [register["unseen"].pk]
    html = response.content.decode()
    assert register["unseen"].person.name not in html
    shown_name = response.context["rows"][0][1]["name"]
    assert "*" in shown_name
    event = AuditEvent.objects.filter(action=AuditAction.LIST, actor_username=doctor.username).latest("id")
    assert event.object_type == "patients.patient"
    assert event.detail["indicator"] == "managed_rate" and event.detail["which"] == "missing"
    assert event.detail["ids"] == [str(register["unseen"].pk)]
    numerator = client.get(url.replace("which=missing", "which=numerator"))
    assert [p.pk for p, _a, _b in numerator.context["rows"]] == [register["seen"].pk]
    # The county user's default region is county A: township B's patient never appears.
    county = client.get("/indicators/managed_rate/patients/?period=2026Q3&which=denominator")
    assert {p.pk for p, _a, _b in county.context["rows"]} == {register["seen"].pk, register["unseen"].pk}
    # Township B lies outside county A: 404, not an empty list.
    assert client.get(f"/indicators/managed_rate/patients/?period=2026Q3&region={towns[1].code}").status_code == 404
    city = verified_client(cast["regulator"]).get(
        f"/indicators/managed_rate/patients/?period=2026Q3&region={CITY}&which=missing")
    assert {p.pk for p, _a, _b in city.context["rows"]} == {register["unseen"].pk, register["elsewhere"].pk}


def test_patient_list_refusals(cast: dict, register: dict, towns: list) -> None:
    base = f"/indicators/managed_rate/patients/?period=2026Q3&region={towns[0].code}"
    assert verified_client(cast["sysadmin"]).get(base).status_code == 403  # figures yes, patients no
    regulator = verified_client(cast["regulator"])
    assert regulator.get(f"/indicators/managed_rate/patients/?region={BEIJING_TOWN}").status_code == 404
    assert regulator.get(base + "&which=everyone").status_code == 400
    assert regulator.get(f"/indicators/prevalence/patients/?region={CITY}&which=denominator").status_code == 400
    assert regulator.get("/indicators/psychiatrists_per_100k/patients/").status_code == 404  # service indicator


def test_refresh_on_demand_recomputes_and_is_audited(cast: dict, register: dict) -> None:
    user = cast["mhc_staff_a"]
    client = verified_client(user)
    response = client.post(reverse("indicators:refresh"), {"period": "2026Q3"})
    assert response.status_code == 302 and response["Location"].startswith(DASHBOARD)
    run = IndicatorRun.objects.get(period="2026Q3")
    assert run.trigger == IndicatorRun.Trigger.ON_DEMAND and run.requested_by == user and run.rows > 0
    row = IndicatorResult.objects.get(indicator="managed_rate", period="2026Q3", region_id=COUNTY_A)
    assert (row.numerator, row.denominator) == (1, 2)
    event = AuditEvent.objects.filter(action=AuditAction.CHANGE, actor_username=user.username).latest("id")
    assert event.object_type == "indicators.indicatorrun" and event.object_id == str(run.pk)
    assert event.detail["period"] == "2026Q3"
    assert client.get(reverse("indicators:refresh")).status_code == 405
    assert verified_client(cast["regulator"]).post(reverse("indicators:refresh"), {"period": "2026Q3"}).status_code == 403
    assert client.post(reverse("indicators:refresh"), {"period": "2026Q3", "region": BEIJING_TOWN}).status_code == 404
    assert client.post(reverse("indicators:refresh"), {"period": "soon"}).status_code == 400


def test_refresh_needs_the_csrf_token(cast: dict) -> None:
    client = login_verified(Client(enforce_csrf_checks=True), cast["mhc_staff_a"])
    assert client.post(reverse("indicators:refresh"), {"period": "2026Q3"}).status_code == 403
    assert not IndicatorRun.objects.exists()


def test_english_page_uses_english_names(cast: dict, city_results: dict) -> None:
    client = verified_client(cast["regulator"], headers={"accept-language": "en"})
    html = client.get(DASHBOARD).content.decode()
    assert definitions.get("managed_rate").name_en in html
