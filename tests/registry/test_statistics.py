"""Regional figures (population, villages) from CSV: all or nothing, errors by line; the command."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from xinqiao.registry.models import RegionStatistic
from xinqiao.registry.statistics import load_csv

pytestmark = pytest.mark.django_db

HEADER = "region_code,year,measure,value,source\n"


def test_a_good_file_loads_and_reloads() -> None:
    count, errors = load_csv(HEADER + "440106,2020,population,2241826,七普\n440106001,2020,villages,12,演示\n")
    assert (count, errors) == (2, [])
    row = RegionStatistic.objects.get(measure="villages")
    assert row.county_code == "440106" and row.township_code == "440106001"
    load_csv(HEADER + "440106,2020,population,2241900,更正\n")
    assert RegionStatistic.objects.get(measure="population").value == 2241900


def test_one_bad_line_loads_nothing() -> None:
    count, errors = load_csv(HEADER + "440106,2020,population,100,x\n999999,2020,population,1,x\n"
                                      "440106,20x0,population,1,x\n440106,2021,households,1,x\n440106,2022,population,-1,x\n"
                                      "440106,2020,population,100,again\n")
    assert count == 0 and [e.line for e in errors] == [3, 4, 5, 6, 7]
    assert not RegionStatistic.objects.exists()
    assert load_csv("code,value\n")[1][0].line == 1


def test_the_command_and_the_shipped_census_file(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "src/xinqiao/registry/data/statistics/guangzhou-census-2020.csv"
    call_command("load_region_statistics", str(shipped))
    assert RegionStatistic.objects.get(region_id="4401").value == 18676605
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "nope,2020,population,1,x\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("load_region_statistics", str(bad))
