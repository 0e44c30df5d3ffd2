"""``xinqiao bench indicators``: the JSON contract on a tiny population (shape and agreement, not speed).

Runs in process against the test database with a few dozen patients in one district: the engine,
the hand-written reference SQL (``bench/indicators_reference.sql``) and the naive ORM loop must give
the same numbers for every (indicator, region). The figures come from runs on real populations
(``docs/operations/scale.md``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = {"patients", "followups", "engine_s", "reference_sql_s", "orm_loop_s", "ratio_vs_reference",
            "peak_rss_mb", "agree", "database", "loadavg_1m", "orm_loop_regions_timed", "orm_loop_extrapolated"}


def _options(**extra: Any) -> dict[str, Any]:
    return {"patients": 60, "seed": 5, "years": 2, "region": "440106", "workers": 1, "database_url": "",
            "period": "2026Q3", "screenings": 30, "orm_sample": 0, "repeat": 1, "no_build": False, **extra}


def test_indicators_is_listed_with_its_options() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["XINQIAO_ENV"] = "test"
    result = subprocess.run([sys.executable, "-m", "xinqiao.cli", "bench", "indicators", "--help"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    for option in ("--patients", "--period", "--database-url", "--screenings", "--orm-sample", "--no-build"):
        assert option in result.stdout


@pytest.mark.django_db
def test_indicators_reports_the_contract_and_all_three_agree() -> None:
    from bench import indicators
    from xinqiao.indicators import definitions

    report = indicators.run(**_options())
    assert CONTRACT <= set(report)
    json.dumps(report)  # one JSON line
    assert report["patients"] == 60 and report["followups"] > 60 and report["screenings"] == 30
    assert report["agree"] is True, report["disagreements"]
    assert report["orm_agree"] is True
    assert report["orm_loop_extrapolated"] is False  # --orm-sample 0: every region timed
    assert report["orm_loop_regions_timed"] == sum(report["regions"].values())
    # one province, one city, one county (440106), the district's townships
    assert report["regions"]["1"] == report["regions"]["2"] == report["regions"]["3"] == 1
    assert report["regions"]["4"] >= 1
    for key in ("engine_s", "reference_sql_s", "orm_loop_s", "peak_rss_mb"):
        assert isinstance(report[key], int | float) and report[key] > 0, key
    assert report["rows"] >= len(definitions.patient_indicators()) * 4


@pytest.mark.django_db
def test_reference_counts_are_those_of_the_definitions_on_a_hand_checked_patient() -> None:
    """The reference is not the engine's SQL: check it on its own against the ORM loop's counts
    for the district, and that prevalence's denominator sums the townships' figures."""
    from bench import indicators
    from xinqiao.core.models import Region
    from xinqiao.indicators.periods import parse
    from xinqiao.patients import synth
    from xinqiao.registry.models import RegionStatistic

    indicators.run(**_options(patients=30, screenings=0, orm_sample=1))
    prefix = synth.bench_prefix(30, 5)
    period = parse("2026Q3")
    counts = indicators.reference_counts(period)
    params = indicators.parameters(period)
    assert indicators.orm_region(3, "440106", params) == counts["440106"]
    figures = indicators.population_figures(2026)
    townships = RegionStatistic.objects.filter(source=f"bench:{prefix}", measure="population")
    assert townships.count() == Region.objects.filter(level=4, code__startswith="440106").count()
    assert figures["440106"] == sum(t.value for t in townships)
    assert "4401" not in figures  # the other districts of 广州 have no figure: no partial sum
    assert counts["44"]["registered"] <= 30


@pytest.mark.django_db
def test_a_partly_built_population_is_never_touched() -> None:
    from bench import indicators
    from xinqiao.patients import synth

    synth.build(synth.SynthOptions(patients=5, seed=5, years=1, region="440106", workers=1,
                                   key_prefix=synth.bench_prefix(60, 5)))
    with pytest.raises(RuntimeError, match="partly there"):
        indicators.run(**_options())
    assert synth.population_size(synth.bench_prefix(60, 5)) == 5
    with pytest.raises(RuntimeError, match="no-build"):
        indicators.run(**_options(patients=61, no_build=True))
