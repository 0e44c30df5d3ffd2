"""``xinqiao score INSTRUMENT --answers …`` through a real process: JSON and exit 0, or exit 2 with a
message naming the item on stderr (Chinese, then English).

The contract cases run as separate ``python -m xinqiao.cli`` processes, concurrently once per module
(Django start-up dominates their time); further variants call the command in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]

EPDS_10 = "3,3,2,3,3,3,3,3,3,3"  # all index 3 = 9 (items 1, 2, 4 score 3), item 3 at index 2 = +1 → 10

RUNS: dict[str, tuple[str, ...]] = {
    "phq9_alert": ("phq9", "--answers", "0,0,0,0,0,0,0,0,1"),
    "cssrs_high": ("cssrs", "--answers", "1,0,,,,1,1"),
    "err_count": ("phq9", "--answers", "0,0,0,0,0,0,0,0"),
    "err_range": ("phq9", "--answers", "0,0,0,0,0,0,0,0,4"),
    "err_missing": ("phq9", "--answers", "0,0,,0,0,0,0,0,0"),
    "err_6b": ("cssrs", "--answers", "0,0,,,,1,"),
    "err_instrument": ("mchat", "--answers", "0"),
}


def xinqiao(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XINQIAO_ENV": "test", "PYTHONPATH": "src", "PYTHONIOENCODING": "utf-8"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(  # noqa: S603 - fixed argv: this interpreter and our own module
        [sys.executable, "-m", "xinqiao.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        done = pool.map(lambda args: xinqiao("score", *args), RUNS.values())
        return dict(zip(RUNS, done, strict=True))


def ok(runs: dict[str, subprocess.CompletedProcess[str]], name: str) -> dict[str, Any]:
    proc = runs[name]
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_phq9_item9_alert_at_total_one(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert ok(runs, "phq9_alert") == {
        "instrument": "phq9",
        "version": "1.0.0",
        "total": 1,
        "standard_score": None,
        "band": "minimal",
        "band_label": "无或极轻微抑郁症状",
        "positive": False,
        "subscales": {},
        "alerts": ["suicide_risk"],
        "risk": None,
    }


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("err_count", ["需要 9 个答案，实际收到 8 个", "needs 9 answers; got 8"]),
        ("err_range", ["第9题", "超出范围", "Item 9", "out of range"]),
        ("err_missing", ["第3题", "必须回答", "Item 3", "required"]),
        ("err_6b", ["第6b题", "Item 6b"]),
    ],
)
def test_errors_exit_2_naming_the_item(
    runs: dict[str, subprocess.CompletedProcess[str]], name: str, fragments: list[str]
) -> None:
    proc = runs[name]
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""
    for fragment in fragments:
        assert fragment in proc.stderr
    assert proc.stderr.index("错误") < proc.stderr.index("Error")  # Chinese first, then English


def test_unknown_instrument_exits_2(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    proc = runs["err_instrument"]
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


def call(*args: str) -> tuple[int, str, str]:
    """Run the command in-process: (exit code, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("score", *args, stdout=out, stderr=err)
    code = info.value.code
    assert isinstance(code, int)
    return code, out.getvalue(), err.getvalue()


def test_in_process_results() -> None:
    # SDS all index 0: 10 forward items × 1 + 10 reverse items × 4 = 50 → int(62.5) = 62, mild
    code, out, _ = call("sds", "--answers", ",".join(["0"] * 20))
    data = json.loads(out)
    assert (code, data["total"], data["standard_score"], data["band"], data["positive"]) == (
        0,
        50,
        62,
        "mild",
        True,
    )
    # SCL-90 every item at index 1 = 2 points: 90 × 2 = 180; every factor mean 2.0
    code, out, _ = call("scl90", "--answers", ",".join(["1"] * 90))
    data = json.loads(out)
    assert (data["total"], data["positive"], data["subscales"]["positive_items"]) == (180, True, 90)
    assert data["subscales"]["somatization"] == 2.0 and data["subscales"]["total_mean"] == 2.0
    # EPDS: all index 3 = 9 (items 1, 2, 4 score 3 each), item 3 at index 2 = +1 → 10
    epds = "3,3,2,3,3,3,3,3,3,3"
    assert json.loads(call("epds", "--answers", epds)[1])["band"] == "possible"
    hk = json.loads(call("epds", "--cutoff", "probable=10", "--answers", epds)[1])  # Hong Kong 9/10
    assert (hk["total"], hk["band"], hk["positive"]) == (10, "probable", True)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("gad7", "--answers", "0,0,0,x,0,0,0"), ["第4题", "Item 4"]),
        (("cssrs", "--answers", "0,0,1,,,0,"), ["第3题应当跳过", "Item 3 must be skipped"]),
        (("cssrs", "--answers", "0,0,,,,0,1"), ["第6b题应当跳过", "Item 6b must be skipped"]),
        (("who5", "--answers", "0,0,0,0,6"), ["第5题", "0–5", "Item 5"]),
        (("epds", "--cutoff", "unlikely=3", "--answers", "0,0,0,0,0,0,0,0,0,0"), ["cut-off"]),
        (("epds", "--cutoff", "probable", "--answers", "0,0,0,0,0,0,0,0,0,0"), ["BAND=MIN"]),
    ],
)
def test_in_process_errors(args: tuple[str, ...], fragments: list[str]) -> None:
    code, out, err = call(*args)
    assert (code, out) == (2, "")
    for fragment in fragments:
        assert fragment in err
