"""``xinqiao bench worklist``: the JSON contract on a tiny population (shape, not speed).

Runs in process against the test database: the real ``/worklists/`` page through the Django test
client, signed in as a community doctor of the busiest clinic.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = {"patients", "followups", "p50_ms", "p95_ms", "queries", "peak_rss_mb"}


def _options(**extra: Any) -> dict[str, Any]:
    return {"patients": 60, "seed": 4, "years": 2, "region": "440106001", "workers": 1, "database_url": "",
            "requests": 5, "list_requests": 3, "clinic": "busiest", **extra}


def test_worklist_is_listed_with_its_options() -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["XINQIAO_ENV"] = "test"
    result = subprocess.run([sys.executable, "-m", "xinqiao.cli", "bench", "worklist", "--help"],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    for option in ("--patients", "--requests", "--list-requests", "--database-url"):
        assert option in result.stdout


@pytest.mark.django_db
def test_worklist_reports_the_contract() -> None:
    from bench import worklist
    from xinqiao.worklists import rules

    report = worklist.run(**_options())
    assert CONTRACT <= set(report)
    json.dumps(report)
    assert report["patients"] == 60 and report["followups"] > 60 and report["requests"] == 5
    assert 0 < report["p50_ms"] <= report["p95_ms"]
    assert isinstance(report["queries"], int) and 1 <= report["queries"] <= 40
    assert set(report["lists"]) == set(rules.LIST_CODES)
    assert all(isinstance(v["queries"], int) and v["p95_ms"] > 0 for v in report["lists"].values())
    assert report["functions"]["worklist_counts"]["queries"] == 1
    assert report["caseload"] > 0 and sum(report["counts"].values()) > 0


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_caseload() -> None:
    from bench import worklist

    small = worklist.run(**_options(patients=20))
    large = worklist.run(**_options(patients=80))
    assert large["caseload"] > small["caseload"]
    assert large["queries"] == small["queries"]
    assert {c: v["queries"] for c, v in large["lists"].items()} == {c: v["queries"] for c, v in small["lists"].items()}
