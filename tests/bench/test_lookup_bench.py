"""``xinqiao bench lookup``: the JSON contract on a tiny population (shape, not speed).

The figures come from a run on a real population (``docs/operations/synth.md``); here the benchmark
runs in process against the test database with a few dozen patients, and once through the command
line against a throw-away SQLite file (the ``--database-url`` path: create, migrate, re-run).
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
CONTRACT = {"patients", "followups", "p50_ms", "p95_ms", "queries", "peak_rss_mb"}
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def _options(**extra: Any) -> dict[str, Any]:
    return {"patients": 40, "seed": 3, "years": 2, "region": "440106", "workers": 1, "database_url": "",
            "lookups": 30, **extra}


def _xinqiao(*args: str, timeout: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    base["XINQIAO_ENV"] = "test"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "xinqiao.cli", *args], env={**base, **(env or {})}, cwd=ROOT, capture_output=True,
        text=True, timeout=timeout, check=False,
    )


def test_lookup_is_listed_with_its_options() -> None:
    result = _xinqiao("bench", "lookup", "--help", timeout=120)
    assert result.returncode == 0, result.stderr
    for option in ("--patients", "--lookups", "--seed", "--years", "--database-url"):
        assert option in result.stdout


@pytest.mark.django_db
def test_lookup_reports_the_contract_and_reuses_the_population() -> None:
    from bench import lookup

    report = lookup.run(**_options())
    assert CONTRACT <= set(report)
    assert report["patients"] == 40 and report["followups"] > 40
    assert report["lookups"] == report["found"] == 30
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"]
    assert isinstance(report["queries"], int) and 1 <= report["queries"] <= 5
    assert report["peak_rss_mb"] > 0 and report["built"] is True
    json.dumps(report)  # one JSON line
    again = lookup.run(**_options(lookups=10))
    assert again["built"] is False and again["build"] is None and again["patients"] == 40


@pytest.mark.django_db
def test_another_size_replaces_the_benchmark_population() -> None:
    from bench import lookup
    from xinqiao.patients.models import Patient

    lookup.run(**_options(patients=20, lookups=5))
    report = lookup.run(**_options(patients=25, lookups=5))
    assert report["built"] is True
    assert Patient.objects.filter(submission_key__startswith="bench:").count() == 25


@pytest.mark.skipif(ON_POSTGRES, reason="the command-line path is exercised once, in the SQLite pass")
def test_lookup_runs_against_another_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    result = _xinqiao("bench", "lookup", "--patients", "15", "--lookups", "10", "--years", "1", "--region", "440106",
                      "--database-url", url, timeout=900, env={"XINQIAO_VAR_DIR": str(tmp_path / "var")})
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    report = json.loads(lines[0])
    assert CONTRACT <= set(report) and report["patients"] == 15 and report["database"] == "sqlite"
    assert (tmp_path / "bench.sqlite3").exists()
