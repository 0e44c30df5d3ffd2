"""``xinqiao bench import``: the JSON contract with a tiny file (not the speed: no timed tests).

The benchmark makes and drops its own database on the configured server (a temporary SQLite file,
or ``xinqiao_bench_import_<pid>`` on PostgreSQL in the PostgreSQL pass).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = {"rows", "rows_per_s", "validate_s", "commit_s", "peak_rss_mb"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["XINQIAO_ENV"] = "test"
    return subprocess.run(  # noqa: S603
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)


def test_bench_lists_import() -> None:
    result = _run("-m", "xinqiao.cli", "bench", "--help")
    assert result.returncode == 0, result.stderr
    assert "import" in result.stdout


def test_import_prints_the_json_contract() -> None:
    result = _run("-m", "xinqiao.cli", "bench", "import", "--patients", "12")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    report = json.loads(lines[0])
    assert CONTRACT <= set(report)
    assert report["rows"] == 12 and report["created"] == 12
    for key in ("rows_per_s", "validate_s", "commit_s", "peak_rss_mb", "csv_rows_per_s"):
        assert isinstance(report[key], int | float) and report[key] > 0, key
    # The same file again is refused by its hash; the same rows in another file are all skipped.
    assert report["reimport_same_file_status"] == "duplicate"
    assert report["reimport_same_rows_status"] == "committed" and report["reimport_skipped"] == 12
    assert report["reimport_created"] == 0
