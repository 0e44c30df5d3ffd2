"""``xinqiao bench followup-import``: the JSON contract with a tiny register (not the speed: no timed tests).

The benchmark makes and drops its own database on the configured server (a temporary SQLite file,
or ``xinqiao_bench_fuimport_<pid>`` on PostgreSQL in the PostgreSQL pass).
"""

from __future__ import annotations

import json

from tests.bench.test_import_bench import CONTRACT, _run


def test_followup_import_prints_the_json_contract() -> None:
    result = _run("-m", "xinqiao.cli", "bench", "followup-import", "--patients", "8")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    report = json.loads(lines[0])
    assert CONTRACT <= set(report)
    assert report["patients"] == 8 and report["rows"] == report["created"] > 0
    assert report["visits"] + report["not_reached"] + report["deaths"] == report["rows"]
    for key in ("rows_per_s", "validate_s", "commit_s", "peak_rss_mb"):
        assert isinstance(report[key], int | float) and report[key] > 0, key
    assert report["reimport_same_file_status"] == "duplicate"
