"""The supervision report (督导评估): content from stored results, PDF, Excel, the route's access rules.

Results are written directly as ``IndicatorResult`` rows (``result()`` below), so the report is
tested on numbers chosen by hand: 广州市 (4401) with four of its districts, the plan's targets
(在册患者管理率 ≥80%, 规律服药率 ≥60%) and 肇事肇祸率 where lower is better.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from tests.factories import UserFactory
from tests.helpers import verified_client
from tests.paperwork.pdftext import pdf_text
from xinqiao.core.models import AuditEvent, Region
from xinqiao.indicators import definitions, periods, reports
from xinqiao.indicators.models import IndicatorResult

CITY = "4401"
D1, D2, D3, D4 = "440103", "440104", "440105", "440106"  # 荔湾区, 越秀区, 海珠区, 天河区
PERIOD = "2026Q3"


@pytest.fixture(autouse=True)
def _chinese() -> None:
    translation.activate("zh-hans")


def result(code: str, region_code: str, value: float | None, *, period: str = PERIOD) -> IndicatorResult:
    """One stored result: value ‰/%/… as given (numerator = value × 10 of a denominator of 1000 ÷ scale)."""
    p = periods.parse(period)
    region = Region.objects.get(code=region_code)
    ind = definitions.get(code)
    denominator = 0 if value is None else 1000
    numerator = 0 if value is None else round(value * 1000 / ind.scale)
    return IndicatorResult.objects.create(
        indicator=code, region=region, level=region.level, period=p.key, period_type=p.type, period_start=p.start,
        period_end=p.end, numerator=numerator, denominator=denominator, value=value,
        computed_at=datetime(2026, 10, 2, 3, 0, tzinfo=UTC))


def user_with(*perms: str, region: str = CITY) -> Any:
    user = UserFactory(region=Region.objects.get(code=region))
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return user


@pytest.fixture
def city_results(db: Any) -> None:
    """The hand-worked example.

    在册患者管理率 (≥80%): city 75; D1 90, D2 70, D3 no denominator, D4 85 → ranks D1, D4, D2, D3 last.
    规律服药率 (≥60%): D1 65, D2 50, D3 55, D4 30.
    肇事肇祸率 (lower is better, no target): D1 0.5, D2 0.1, D4 0.3 → D2, D4, D1.
    Behind target: D2 on two (0.125 + 0.1667), D4 on one (0.5), D3 on one (0.0833), D1 on none.
    """
    result("managed_rate", CITY, 75.0)
    result("regular_medication_rate", CITY, 52.0)
    for code, value in ((D1, 90.0), (D2, 70.0), (D3, None), (D4, 85.0)):
        result("managed_rate", code, value)
    for code, value in ((D1, 65.0), (D2, 50.0), (D3, 55.0), (D4, 30.0)):
        result("regular_medication_rate", code, value)
    for code, value in ((D1, 0.5), (D2, 0.1), (D4, 0.3)):
        result("incident_rate", code, value)
    # Not part of the report: another period, a township (one level too deep), another city's district.
    result("managed_rate", D2, 10.0, period="2026Q2")
    result("managed_rate", Region.objects.filter(parent_id=D4).order_by("code").first().code, 1.0)
    result("managed_rate", "440303", 5.0)


def build() -> reports.SupervisionReport:
    return reports.build(Region.objects.get(code=CITY), periods.parse(PERIOD))


def test_lines_carry_value_target_and_status(city_results: None) -> None:
    report = build()
    lines = {line.indicator.code: line for line in report.lines}
    managed = lines["managed_rate"]
    assert (managed.numerator, managed.denominator, managed.value) == (750, 1000, 75.0)
    assert managed.target is not None and managed.target.value == 80 and managed.target.comparator == ">="
    # 75 is 5 points short of 80: within the near margin of 10% of the target (8 points).
    assert managed.status == "near"
    assert lines["regular_medication_rate"].status == "missed"  # 52 vs 60: 8 > 6
    # Indicators without a stored row are listed without a value, not left out.
    assert lines["standard_management_rate"].value is None and lines["standard_management_rate"].status == "none"
    assert report.computed_at is not None and report.period.key == PERIOD
    assert any("规划" in s for s in report.sources)


def test_ranking_order_per_indicator(city_results: None) -> None:
    rankings = {r.indicator.code: r for r in build().rankings}
    managed = rankings["managed_rate"].entries
    assert [(e.region_code, e.rank) for e in managed] == [(D1, 1), (D4, 2), (D2, 3), (D3, None)]
    # Lower is better: the smallest rate ranks first.
    assert [(e.region_code, e.rank) for e in rankings["incident_rate"].entries] == [(D2, 1), (D4, 2), (D1, 3)]
    assert [e.region_code for e in rankings["regular_medication_rate"].entries] == [D1, D3, D2, D4]
    assert managed[2].shortfall == pytest.approx(0.125)
    assert managed[0].shortfall == pytest.approx(-0.125)  # ahead of target
    assert managed[3].shortfall is None
    # Only the city's districts, only this period.
    assert {e.region_code for r in rankings.values() for e in r.entries} == {D1, D2, D3, D4}


def test_most_behind_regions(city_results: None) -> None:
    behind = build().behind
    assert [(b.region_code, b.behind) for b in behind] == [(D2, 2), (D4, 1), (D3, 1)]
    assert behind[0].shortfall == pytest.approx(0.125 + 10 / 60)
    assert behind[0].with_target == 2 and behind[2].with_target == 1  # D3's managed rate has no value
    # Worst first: 规律服药率 is 16.7% short, 管理率 12.5%.
    assert behind[0].indicators == ("规律服药率", "在册患者管理率")
    limited = reports.build(Region.objects.get(code=CITY), periods.parse(PERIOD), behind_count=1).behind
    assert [b.region_code for b in limited] == [D2]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False).map(
    lambda v: round(v, 1))), min_size=4, max_size=4))
def test_sql_ranking_matches_plain_python(db: Any, values: list[float | None]) -> None:
    IndicatorResult.objects.all().delete()
    codes = [D1, D2, D3, D4]
    for code, value in zip(codes, values, strict=True):
        result("managed_rate", code, value)
    entries = {r.indicator.code: r for r in build().rankings}["managed_rate"].entries
    with_value = sorted((v, c) for c, v in zip(codes, values, strict=True) if v is not None)
    expected_rank = {c: 1 + sum(1 for v2, _c in with_value if v2 > v) for v, c in with_value}
    assert {e.region_code: e.rank for e in entries} == {c: expected_rank.get(c) for c in codes}
    ranked = [e.value for e in entries if e.value is not None]
    assert ranked == sorted(ranked, reverse=True)
    behind = {b.region_code: b.shortfall for b in reports.most_behind(
        Region.objects.get(code=CITY), periods.parse(PERIOD), {"managed_rate": definitions.get("managed_rate").targets[-1]},
        count=10)}
    assert behind == pytest.approx({c: (80 - v) / 80 for c, v in zip(codes, values, strict=True)
                                    if v is not None and v < 80})


def test_pdf_is_a_pdf_with_the_chinese_names(city_results: None) -> None:
    pdf = reports.render_pdf(build())
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf).replace("\n", "")
    for expected in ("在册患者管理率", "规律服药率", "广东省广州市", "2026Q3", "荔湾区", "越秀区", "发病报告逾期录入"):
        assert expected in text, expected


def test_excel_holds_the_numbers(city_results: None) -> None:
    wb = load_workbook(BytesIO(reports.render_xlsx(build())))
    summary = wb.worksheets[0]
    header_row = next(r for r in range(1, 10) if summary.cell(row=r, column=1).value == "Code"
                      or summary.cell(row=r, column=1).value == translation.gettext("Code"))
    assert summary.freeze_panes == f"B{header_row + 1}"
    rows = {summary.cell(row=r, column=1).value: r for r in range(header_row + 1, summary.max_row + 1)}
    managed = rows["managed_rate"]
    assert [summary.cell(row=managed, column=c).value for c in (2, 3, 4, 5, 6)] == ["在册患者管理率", 750, 1000, 75.0, 80]
    assert summary.cell(row=managed, column=5).number_format == '0.0"%"'
    ranking = next(ws for ws in wb.worksheets if ws.title.endswith("在册患者管理率"))
    assert ranking.freeze_panes == "B6"
    body = [[ranking.cell(row=r, column=c).value for c in (1, 2, 6)] for r in range(6, ranking.max_row + 1)]
    assert body == [[1, D1, 90.0], [2, D4, 85.0], [3, D2, 70.0], [None, D3, None]]
    behind = wb.worksheets[1]
    assert [behind.cell(row=r, column=1).value for r in range(6, behind.max_row + 1)] == [D2, D4, D3]
    assert behind.cell(row=6, column=3).value == 2


# --------------------------------------------------------------------------------------------------
# The route
# --------------------------------------------------------------------------------------------------


def url(**query: str) -> str:
    from urllib.parse import urlencode

    return reverse("indicators:report") + ("?" + urlencode(query) if query else "")


def test_pdf_and_excel_downloads_are_audited(city_results: None) -> None:
    client = verified_client(user_with("indicators.export_report"))
    response = client.get(url(period=PERIOD, format="pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    response = client.get(url(period=PERIOD, format="xlsx", region=D4))
    assert response.status_code == 200
    assert load_workbook(BytesIO(response.content)).worksheets[0].cell(row=1, column=1).value
    events = list(AuditEvent.objects.filter(action="export", object_type="indicators.indicatorresult")
                  .order_by("id").values_list("region_code", "detail"))
    assert [(code, d["format"], d["period"]) for code, d in events] == [(CITY, "pdf", PERIOD), (D4, "xlsx", PERIOD)]


def test_page_defaults_to_latest_stored_period(city_results: None) -> None:
    response = verified_client(user_with("indicators.export_report")).get(url())
    assert response.status_code == 200
    assert response.context["report"].period.key == PERIOD
    assert "在册患者管理率" in response.content.decode()


def test_without_permission_403(city_results: None) -> None:
    assert verified_client(user_with()).get(url(format="pdf")).status_code == 403


def test_region_outside_scope_or_unknown_404(city_results: None) -> None:
    district_user = verified_client(user_with("indicators.export_report", region=D4))
    assert district_user.get(url(region=CITY)).status_code == 404   # above the user's region
    assert district_user.get(url(region=D1)).status_code == 404     # a sibling district
    assert district_user.get(url(region="110101", format="xlsx")).status_code == 404  # another province
    assert district_user.get(url(region="999999")).status_code == 404
    assert district_user.get(url(region=D4)).status_code == 200
    assert not AuditEvent.objects.filter(action="export").exists()


def test_bad_period_or_format_400(city_results: None) -> None:
    client = verified_client(user_with("indicators.export_report"))
    response = client.get(url(period="2026Q5"))
    assert response.status_code == 400 and "2026Q5" in response.content.decode()
    assert client.get(url(format="docx")).status_code == 400
