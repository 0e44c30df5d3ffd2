"""``xinqiao followup-rule --json '<input>'``: the contract for outside tools, through the console script.

The contract cases run as separate processes of the installed ``.venv/bin/xinqiao`` script (how an
outside tool calls it), concurrently once per module; further cases call the command in-process.
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
SCRIPT = Path(sys.executable).parent / "xinqiao"

GOOD = {"self_care": 1, "housework": 1, "work": 1, "study": 1, "social": 1}


def visit(**changes: Any) -> str:
    data: dict[str, Any] = {"followup_date": "2025-01-31", "danger_level": 0, "insight": 1, "symptoms": [],
                            "symptoms_marked": False, "social_function": dict(GOOD),
                            "adverse_reaction_serious": False, "physical_illness_serious": False}
    data.update(changes)
    return json.dumps(data, ensure_ascii=False)


RUNS: dict[str, str] = {
    "stable": visit(),
    "unstable_danger": visit(danger_level=3),
    "basic_again": visit(danger_level=1, previous_classification=2),
    "basic_first": visit(insight=2, social_function={**GOOD, "work": 9}),
    "err_danger": visit(danger_level=6),
    "err_work": visit(social_function={**GOOD, "self_care": 9}),
    "err_missing": json.dumps({"followup_date": "2025-01-31"}),
    "err_json": "{danger_level: 3",
}


def xinqiao(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XINQIAO_ENV": "test", "PYTHONIOENCODING": "utf-8"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(  # noqa: S603 - fixed argv: the project's own console script
        [str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8",
        timeout=180, check=False,
    )


@pytest.fixture(scope="module")
def runs() -> dict[str, subprocess.CompletedProcess[str]]:
    assert SCRIPT.exists(), f"console script missing: {SCRIPT}"
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        done = pool.map(lambda text: xinqiao("followup-rule", "--json", text), RUNS.values())
        return dict(zip(RUNS, done, strict=True))


def ok(runs: dict[str, subprocess.CompletedProcess[str]], name: str) -> dict[str, Any]:
    proc = runs[name]
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def test_stable_visit_prints_exactly_the_contract(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert ok(runs, "stable") == {"classification": 3, "label": "稳定", "next_followup_date": "2025-04-30",
                                  "actions": ["continue_plan"]}


def test_danger_3_is_unstable_with_police(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert ok(runs, "unstable_danger") == {"classification": 1, "label": "不稳定",
                                           "next_followup_date": "2025-02-14", "actions": ["refer", "notify_police"]}


def test_basically_stable_twice_is_one_month_clamped(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert ok(runs, "basic_again") == {"classification": 2, "label": "基本稳定", "next_followup_date": "2025-02-28",
                                       "actions": ["adjust_treatment", "consult_psychiatrist"]}


def test_basically_stable_first_is_two_weeks(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert ok(runs, "basic_first") == {"classification": 2, "label": "基本稳定", "next_followup_date": "2025-02-14",
                                       "actions": ["adjust_treatment"]}


@pytest.mark.parametrize(("name", "key"), [
    ("err_danger", "danger_level"), ("err_work", "social_function.self_care"), ("err_missing", "danger_level"),
    ("err_json", "--json"),
])
def test_invalid_input_exits_2_naming_the_key(runs: dict[str, subprocess.CompletedProcess[str]], name: str,
                                              key: str) -> None:
    proc = runs[name]
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert key in proc.stderr
    assert "错误" in proc.stderr and "Error" in proc.stderr


def test_underscore_name_reaches_the_same_command() -> None:
    proc = xinqiao("followup_rule", "--json", visit(insight=3))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["actions"] == ["refer"]


# --- In-process (call_command) -----------------------------------------------------------------------

def call(text: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as done:
        call_command("followup_rule", "--json", text, stdout=out, stderr=err)
    return int(done.value.code or 0), out.getvalue(), err.getvalue()


def test_call_command_prints_json_and_exits_0() -> None:
    code, out, err = call(visit(symptoms=[1], symptoms_marked=True, previous_classification=None))
    assert (code, err) == (0, "")
    assert json.loads(out) == {"classification": 1, "label": "不稳定", "next_followup_date": "2025-02-14",
                               "actions": ["refer"]}


@pytest.mark.parametrize(("text", "key"), [
    (visit(insight=4), "insight"),
    (visit(symptoms=[13]), "symptoms"),
    (visit(followup_date="2025-02-29"), "followup_date"),
    (visit(previous_classification=5), "previous_classification"),
    (visit(adverse_reaction_serious="no"), "adverse_reaction_serious"),
    (json.dumps([1]), "input"),
])
def test_call_command_invalid_exits_2(text: str, key: str) -> None:
    code, out, err = call(text)
    assert code == 2
    assert out == ""
    assert key in err
