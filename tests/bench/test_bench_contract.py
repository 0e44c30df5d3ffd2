"""``xinqiao bench``: the dispatcher, and the screening-load JSON contract (not its figures).

The load run needs wrk and a PostgreSQL server: it runs in the PostgreSQL pass of the suite
(``DATABASE_URL`` names PostgreSQL) when ``wrk`` is installed, with one-second loads. Nothing here
is timed: only the keys and types of the JSON line, and that the throw-away database is gone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = {"submissions_per_s", "p50_ms", "p99_ms", "errors", "baseline_per_s", "ratio"}
PG_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith(("postgres://", "postgresql://"))


def _xinqiao(*args: str, timeout: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["XINQIAO_ENV"] = "test"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "xinqiao.cli", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
    )


def test_bench_lists_its_benchmarks() -> None:
    result = _xinqiao("bench", "--help", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "screening-load" in result.stdout


def test_screening_load_options_parse() -> None:
    result = _xinqiao("bench", "screening-load", "--help", timeout=60)
    assert result.returncode == 0, result.stderr
    for option in ("--seconds", "--connections", "--workers", "--worker-class"):
        assert option in result.stdout


@pytest.mark.skipif(not ON_POSTGRES, reason="screening-load needs PostgreSQL (runs in the PostgreSQL pass)")
@pytest.mark.skipif(shutil.which("wrk") is None, reason="screening-load needs wrk (apt-get install wrk)")
def test_screening_load_prints_the_json_contract() -> None:
    result = _xinqiao("bench", "screening-load", "--seconds", "1", "--warmup", "1", "--workers", "2",
                      "--connections", "4", "--database-url", PG_URL, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    report = json.loads(lines[0])
    assert CONTRACT <= set(report)
    for key in ("submissions_per_s", "p50_ms", "p99_ms", "baseline_per_s", "ratio"):
        assert isinstance(report[key], int | float) and report[key] >= 0, key
    assert isinstance(report["errors"], int) and report["errors"] >= 0
    assert report["seconds"] == 1 and report["connections"] == 4

    import psycopg

    admin = PG_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [report["database_name"]]).fetchone()
    assert left is None, f"{report['database_name']} was not dropped"


def test_fastpath_application_puts_the_lean_path_first_once() -> None:
    """``--app 'bench.screening_load:fastpath_application()'`` measures the lean path for anonymous
    submissions as production runs it once ``MIDDLEWARE`` lists it (and adds nothing if it does)."""
    code = ("import bench.screening_load as b; b.fastpath_application(); b.fastpath_application(); "
            "from django.conf import settings; print(settings.MIDDLEWARE.count(b.FASTPATH_MIDDLEWARE), "
            "settings.MIDDLEWARE[0])")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["XINQIAO_ENV"] = "test"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,  # noqa: S603
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["1", "xinqiao.screening.fastpath.AnonymousSubmissionMiddleware"]
