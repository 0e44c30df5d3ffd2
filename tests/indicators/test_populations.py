"""Import of populations and survey figures (populations.py, ``xinqiao load-population``, the upload page):
good CSV and .xlsx files, every kind of bad row reported by row and column with nothing written,
idempotent re-import, scope of the uploader, and the shipped demo file."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from tests.factories import UserFactory
from tests.helpers import login_verified
from xinqiao.core.models import AuditEvent
from xinqiao.indicators import populations
from xinqiao.registry.models import RegionStatistic

pytestmark = pytest.mark.django_db

GOOD_CSV = """区划代码 (region_code),年份 (year),指标 (measure),数值 (value),来源 (source)
440106,2020,population,"2,241,826",第七次全国人口普查
440111,2020,常住人口,3666715,
4401,2025,awareness_urban_surveyed,1200,调查
4401,2025,awareness_urban_aware,876,调查
"""
DEMO_FILE = (Path(populations.__file__).resolve().parents[1] / "registry" / "data" / "statistics"
             / "demo-synthetic-figures.csv")


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def stored() -> dict[tuple[str, int, str], tuple[int, str]]:
    return {(r, y, m): (v, s) for r, y, m, v, s in RegionStatistic.objects.values_list(
        "region_id", "year", "measure", "value", "source")}


def test_good_csv_then_idempotent_reimport() -> None:
    result = populations.import_file(GOOD_CSV.encode(), "pop.csv", source="默认来源")
    assert result.ok and (result.rows, result.created, result.updated) == (4, 4, 0)
    figures = stored()
    assert figures[("440106", 2020, "population")] == (2241826, "第七次全国人口普查")
    assert figures[("440111", 2020, "population")] == (3666715, "默认来源")  # --source fills the gap
    row = RegionStatistic.objects.get(region_id="440106", measure="population")
    assert (row.province_code, row.city_code, row.county_code) == ("44", "4401", "440106")
    again = populations.import_file(GOOD_CSV.encode(), "pop.csv", source="默认来源")
    assert again.ok and (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert stored() == figures
    corrected = populations.import_file(GOOD_CSV.replace("3666715", "3666716").encode(), "pop.csv",
                                        source="默认来源")
    assert (corrected.created, corrected.updated, corrected.unchanged) == (0, 1, 3)
    assert stored()[("440111", 2020, "population")] == (3666716, "默认来源")
    assert RegionStatistic.objects.count() == 4


def test_good_xlsx_with_chinese_headers_and_numbers() -> None:
    content = xlsx([["区划代码", "年份", "指标", "数值"],
                    ["440106", 2021, "population_urban", 2100000],
                    [440111, 2021.0, "乡村常住人口", 150000.0],
                    [None, None, None, None],
                    ["44", 2019, "depression_baseline_cases", 400],
                    ["44", 2019, "depression_baseline_treated", 38]])
    result = populations.import_file(content, "figures.xlsx")
    assert result.ok, [str(e) for e in result.errors]
    assert result.rows == 4
    assert stored()[("440111", 2021, "population_rural")] == (150000, "")


def test_gbk_csv_is_read() -> None:
    assert populations.import_file(GOOD_CSV.encode("gb18030"), "pop.csv").ok


def test_bad_rows_are_each_reported_and_nothing_is_written() -> None:
    content = xlsx([["区划代码 (region_code)", "年份 (year)", "指标 (measure)", "数值 (value)"],
                    ["440106", 2020, "population", 100],  # row 2: good
                    ["999999", 2020, "population", 100],  # row 3: unknown region
                    ["440106", "二〇二〇", "population", 100],  # row 4: bad year
                    ["440106", 2021, "headcount", 100],  # row 5: unknown measure
                    ["440106", 2022, "population", -5],  # row 6: negative
                    ["440106", 2023, "population", 1.5],  # row 7: not whole
                    ["440106", 2020, "常住人口", 7],  # row 8: duplicate of row 2
                    ["4401", 2025, "awareness_rural_surveyed", 10],  # row 9
                    ["4401", 2025, "awareness_rural_aware", 11]])  # row 10: more than row 9
    with translation.override("en"):
        result = populations.import_file(content, "bad.xlsx")
        messages = [str(e) for e in result.errors]
    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "区划代码"), (4, "年份"), (5, "指标"), (6, "数值"), (7, "数值"), (8, ""), (10, "数值")]
    assert messages[0] == "Row 3, column “区划代码”: “999999” is not a region code of the national list."
    assert "Row 2 already gives this region, year and measure." in messages[5]
    assert "more than the 10 of row 9" in messages[6]
    assert RegionStatistic.objects.count() == 0


def test_missing_column_and_unreadable_file() -> None:
    result = populations.import_file("区划代码,年份,数值\n440106,2020,5\n".encode(), "x.csv")
    assert [(e.row, e.column) for e in result.errors] == [(1, "指标")]
    assert not populations.import_file(b"PK\x03\x04 not really a zip", "x.xlsx").ok
    assert not populations.import_file(b"", "x.csv").ok


def test_rows_outside_the_uploaders_region_are_refused() -> None:
    user = UserFactory(username="reg_tianhe", region_id="440106", roles=["regulator"])
    result = populations.import_file(GOOD_CSV.encode(), "pop.csv", user=user)
    assert not result.ok
    assert {(e.row, e.column) for e in result.errors} == {(3, "区划代码"), (4, "区划代码"), (5, "区划代码")}
    assert RegionStatistic.objects.count() == 0


def test_import_is_audited() -> None:
    populations.import_file(GOOD_CSV.encode(), "pop.csv")
    event = AuditEvent.objects.filter(object_type="registry.regionstatistic").latest("id")
    assert event.detail["rows"] == 4 and event.region_code == "4401"  # the region holding every row


def test_command(tmp_path: Path) -> None:
    good = tmp_path / "pop.csv"
    good.write_text(GOOD_CSV, encoding="utf-8")
    out = io.StringIO()
    call_command("load_population", str(good), "--source", "普查", "--language", "en", stdout=out)
    assert "4 figures: 4 new, 0 updated, 0 unchanged." in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text("region_code,year,measure,value\n440106,2020,population,x\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"^1 error; nothing was imported\.$"):
        call_command("load_population", str(bad), "--language", "en", stderr=err)
    assert "Row 2, column “数值”" in err.getvalue()


def test_shipped_demo_figures_load() -> None:
    result = populations.import_file(DEMO_FILE.read_bytes(), DEMO_FILE.name)
    assert result.ok, [str(e) for e in result.errors]
    assert all("合成" in s for (_r, _y, _m), (_v, s) in stored().items())


def test_upload_page(client: Client) -> None:
    regulator = UserFactory(username="reg_city", region_id="4401", roles=["regulator"])
    doctor = UserFactory(username="doc", region_id="440106001", roles=["community_doctor"])
    url = reverse("indicators:population_upload")
    login_verified(client, doctor)
    assert client.get(url).status_code == 403
    login_verified(client, regulator)
    assert client.get(url).status_code == 200
    bad = io.BytesIO(b"region_code,year,measure,value\n110101,2020,population,5\n")
    bad.name = "bad.csv"
    response = client.post(url, {"file": bad})
    assert response.status_code == 400
    assert "110101" in response.content.decode() and RegionStatistic.objects.count() == 0
    good = io.BytesIO(GOOD_CSV.encode())
    good.name = "pop.csv"
    response = client.post(url, {"file": good, "source": "普查"})
    assert response.status_code == 302
    assert RegionStatistic.objects.count() == 4
