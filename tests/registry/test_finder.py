"""The service finder: distance computed in SQL after a bounding box, filters, open now, urgent first,
region ordering, what is never listed, and a fixed number of queries."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.registry.factories import BAIYUN, TIANHE, make_institution
from xinqiao.registry import finder, rules
from xinqiao.registry.models import InstitutionStatus
from xinqiao.registry.services import set_institution_status

pytestmark = pytest.mark.django_db

HERE = (23.1300, 113.3200)  # the user's phone, in Tianhe
SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY_10 = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)
TUESDAY_23 = datetime(2026, 3, 10, 23, 0, tzinfo=SHANGHAI)


@pytest.fixture
def network() -> dict[str, Any]:
    def at(km_north: float, km_east: float) -> tuple[float, float]:
        return HERE[0] + km_north / 111.2, HERE[1] + km_east / (111.2 * 0.92)

    n = {}
    n["clinic"] = make_institution(None, name="近处心理门诊", kind="general_hospital_clinic", region_code=TIANHE,
                                   latitude=at(0.5, 0)[0], longitude=at(0.5, 0)[1], hours="1-5 08:00-17:00",
                                   services=["psychiatric_outpatient", "psychology_outpatient"],
                                   business_licence_number="", licensing_status="")
    n["hospital"] = make_institution(None, name="较远精神专科医院", kind="psychiatric_hospital", region_code="4401",
                                     latitude=at(4, 3)[0], longitude=at(4, 3)[1], open_24h=True, hours="",
                                     services=["emergency", "psychiatric_outpatient", "inpatient"],
                                     business_licence_number="", licensing_status="")
    n["agency"] = make_institution(None, name="中等距离咨询中心", kind="counselling_agency", region_code=TIANHE,
                                   latitude=at(-2, 0)[0], longitude=at(-2, 0)[1], hours="1-7 19:00-02:00",
                                   services=["counselling", "child_adolescent"])
    n["far"] = make_institution(None, name="六十公里外咨询中心", kind="counselling_agency", region_code=BAIYUN,
                                latitude=at(60, 0)[0], longitude=at(60, 0)[1], services=["counselling"])
    n["school"] = make_institution(None, name="某中学心理辅导室", kind="school_room", region_code=TIANHE,
                                   latitude=at(0.1, 0)[0], longitude=at(0.1, 0)[1], students=1000, counsellors=1,
                                   services=["counselling"], business_licence_number="", licensing_status="")
    n["beijing"] = make_institution(None, name="北京某心理门诊", kind="general_hospital_clinic", region_code="110101",
                                    latitude=39.9, longitude=116.4, services=["psychiatric_outpatient"],
                                    business_licence_number="", licensing_status="")
    n["hotline"] = make_institution(None, name="广州测试心理援助热线", kind="hotline", region_code="4401",
                                    latitude=None, longitude=None, open_24h=True, hours="", phone="020-12345678",
                                    services=["hotline"], business_licence_number="", licensing_status="")
    return n


def names(rows: list[Any]) -> list[str]:
    return [r.name for r in rows]


def test_nearest_first_within_the_radius(network: dict[str, Any]) -> None:
    rows = finder.search(finder.Query(latitude=HERE[0], longitude=HERE[1]))
    assert names(rows) == ["近处心理门诊", "中等距离咨询中心", "较远精神专科医院"]
    # The SQL distance equals the pure haversine.
    for row in rows:
        assert row.distance_km == pytest.approx(rules.haversine_km(HERE[0], HERE[1], row.latitude, row.longitude),
                                                abs=1e-6)
    assert 0.4 < rows[0].distance_km < 0.6 and 4.8 < rows[2].distance_km < 5.2


def test_the_bounding_box_and_radius_leave_far_points_out(network: dict[str, Any]) -> None:
    assert "六十公里外咨询中心" not in names(finder.search(finder.Query(latitude=HERE[0], longitude=HERE[1])))
    wide = finder.search(finder.Query(latitude=HERE[0], longitude=HERE[1], radius_km=100))
    assert names(wide)[-1] == "六十公里外咨询中心"


def test_the_distance_query_prefilters_with_the_box(network: dict[str, Any]) -> None:
    with CaptureQueriesContext(connection) as ctx:
        finder.search(finder.Query(latitude=HERE[0], longitude=HERE[1]))
    main = next(q["sql"] for q in ctx.captured_queries if "registry_servicepoint" in q["sql"]
                and "BETWEEN" in q["sql"].upper())
    assert "latitude" in main and "longitude" in main and "LIMIT" in main.upper()


def test_never_listed_school_rooms_suspended_and_hotlines_without_location(network: dict[str, Any]) -> None:
    set_institution_status(network["agency"], InstitutionStatus.SUSPENDED, actor=None, source="sanction")
    rows = names(finder.search(finder.Query(latitude=HERE[0], longitude=HERE[1], radius_km=100)))
    assert "某中学心理辅导室" not in rows  # serves its own students
    assert "中等距离咨询中心" not in rows  # suspended
    assert "广州测试心理援助热线" not in rows  # no location: shown with the hotlines instead
    assert names(finder.hotlines_for(TIANHE)) == ["广州测试心理援助热线"]


@pytest.mark.parametrize(("filters", "expected"), [
    (["emergency"], ["较远精神专科医院"]),
    (["psychiatric_outpatient"], ["近处心理门诊", "较远精神专科医院"]),
    (["counselling"], ["近处心理门诊", "中等距离咨询中心"]),  # psychology outpatient counts as counselling
    (["child_adolescent"], ["中等距离咨询中心"]),
    (["elderly"], []),
    (["emergency", "child_adolescent"], ["中等距离咨询中心", "较远精神专科医院"]),
])
def test_filters(network: dict[str, Any], filters: list[str], expected: list[str]) -> None:
    assert names(finder.search(finder.Query(latitude=HERE[0], longitude=HERE[1], filters=filters))) == expected


def test_open_now(network: dict[str, Any]) -> None:
    q = finder.Query(latitude=HERE[0], longitude=HERE[1], open_now=True)
    assert names(finder.search(q, now=TUESDAY_10)) == ["近处心理门诊", "较远精神专科医院"]
    assert names(finder.search(q, now=TUESDAY_23)) == ["中等距离咨询中心", "较远精神专科医院"]  # evening agency
    wednesday_1am = datetime(2026, 3, 11, 1, 0, tzinfo=SHANGHAI)  # the overnight hours run past midnight
    assert "中等距离咨询中心" in names(finder.search(q, now=wednesday_1am))


def test_urgent_puts_24_hour_services_first(network: dict[str, Any]) -> None:
    rows = finder.search(finder.Query(latitude=HERE[0], longitude=HERE[1], urgent=True))
    assert names(rows) == ["较远精神专科医院", "近处心理门诊", "中等距离咨询中心"]


def test_by_region_inside_first_then_the_city(network: dict[str, Any]) -> None:
    rows = finder.search(finder.Query(region_code=TIANHE))
    assert names(rows) == ["中等距离咨询中心", "近处心理门诊", "较远精神专科医院"]  # 440106 by name, then 4401
    assert all(r.distance_km is None for r in rows)
    assert names(finder.search(finder.Query(region_code=TIANHE, urgent=True)))[0] == "较远精神专科医院"
    assert finder.search(finder.Query()) == []


def test_the_page_runs_a_fixed_number_of_queries(network: dict[str, Any], client: Client,
                                                 django_assert_max_num_queries: Any) -> None:
    url = reverse("services:finder")
    with django_assert_max_num_queries(12):
        page = client.get(url, {"lat": HERE[0], "lon": HERE[1], "f": ["counselling", "emergency"]})
    for i in range(15):  # more services, same number of queries
        make_institution(None, name=f"新增门诊{i}", kind="general_hospital_clinic", region_code=TIANHE,
                         latitude=HERE[0] + i / 1000, longitude=HERE[1], services=["psychology_outpatient"],
                         business_licence_number="", licensing_status="")
    with CaptureQueriesContext(connection) as few:
        client.get(url, {"lat": HERE[0], "lon": HERE[1], "f": ["counselling", "emergency"]})
    with CaptureQueriesContext(connection) as many:
        client.get(url, {"lat": HERE[0], "lon": HERE[1], "f": ["counselling", "emergency"]})
    assert len(few) == len(many)
    body = page.content.decode()
    assert 'id="result-count"' in body and "近处心理门诊" in body and "tel:020-12345678" in body
    assert "geo:" in body


def test_the_page_works_without_anything_and_by_region(network: dict[str, Any], client: Client) -> None:
    empty = client.get(reverse("services:finder"))
    assert empty.status_code == 200 and 'id="results"' not in empty.content.decode()
    by_region = client.get(reverse("services:finder"), {"province": "44", "region": TIANHE})
    body = by_region.content.decode()
    assert "近处心理门诊" in body and "北京某心理门诊" not in body
    # Changing the province drops the old region.
    moved = client.get(reverse("services:finder"), {"province": "11", "region": TIANHE})
    assert moved.context["q"].region_code == ""


def test_the_api(network: dict[str, Any], client: Client) -> None:
    rows = client.get(reverse("api-1:services_finder"), {"lat": HERE[0], "lon": HERE[1], "urgent": "true",
                                                           "f": "psychiatric_outpatient"}).json()
    assert [r["name"] for r in rows] == ["较远精神专科医院", "近处心理门诊"]
    assert rows[0]["open_24h"] and rows[0]["distance_km"] > rows[1]["distance_km"]
    assert rows[1]["hours"] == "1-5 08:00-17:00"
    assert client.get(reverse("api-1:services_finder")).json() == []


def test_point_page(network: dict[str, Any], client: Client) -> None:
    point = network["clinic"].points.get()
    page = client.get(reverse("services:point_detail", kwargs={"pk": point.pk}))
    assert page.status_code == 200 and "近处心理门诊" in page.content.decode()
    school_point = network["school"].points.get()
    assert client.get(reverse("services:point_detail", kwargs={"pk": school_point.pk})).status_code == 404
