"""Tests for the ``xinqiao`` console script (xinqiao.cli) and the commands it reaches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from xinqiao import cli
from xinqiao.core.roles import all_roles

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "xinqiao"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["XINQIAO_ENV"] = "test"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "xinqiao.cli", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )


def test_idcard_valid_prints_the_json_contract() -> None:
    result = _run("idcard", "11010519491231002X")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "valid": True,
        "normalized": "11010519491231002X",
        "birth_date": "1949-12-31",
        "sex": "F",
        "region_code": "110105",
        "error": None,
    }


def test_idcard_normalizes_lowercase_x() -> None:
    result = _run("idcard", "11010519491231002x")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["normalized"] == "11010519491231002X"


@pytest.mark.parametrize(("number", "error"), [
    ("110105194912310021", "checksum"),
    ("1101051949123100", "length"),
])
def test_idcard_invalid_exits_1(number: str, error: str) -> None:
    result = _run("idcard", number)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert set(report) == {"valid", "normalized", "birth_date", "sex", "region_code", "error"}
    assert report["valid"] is False
    assert report["error"] == error


def test_idcard_other_document_type() -> None:
    result = _run("idcard", "--type", "passport", "e12345678")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["normalized"] == "E12345678"


@pytest.mark.skipif(not SCRIPT.exists(), reason="the console script is not installed in this environment")
def test_console_script_maps_hyphenated_names() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env["XINQIAO_ENV"] = "test"
    result = subprocess.run(  # noqa: S603
        [str(SCRIPT), "sync-roles", "--help"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Create or update one group per role" in result.stdout
    assert "sync_roles" in result.stdout


@pytest.mark.parametrize(("argv", "expected"), [
    (["xinqiao", "sync-roles"], ["xinqiao", "sync_roles"]),
    (["xinqiao", "rotate-keys", "--batch-size", "10"], ["xinqiao", "rotate_keys", "--batch-size", "10"]),
    (["xinqiao", "load-regions"], ["xinqiao", "load_regions"]),
    (["xinqiao", "audit", "verify"], ["xinqiao", "audit", "verify"]),
    (["xinqiao", "idcard", "110105-1949"], ["xinqiao", "idcard", "110105-1949"]),  # only the command name maps
    (["xinqiao", "--version"], ["xinqiao", "--version"]),
    (["xinqiao"], ["xinqiao"]),
])
def test_main_maps_argv(monkeypatch, argv: list[str], expected: list[str]) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr("django.core.management.execute_from_command_line", seen.append)
    cli.main(argv)
    assert seen == [expected]


def test_main_reads_sys_argv_by_default(monkeypatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr("django.core.management.execute_from_command_line", seen.append)
    monkeypatch.setattr(sys, "argv", ["/usr/bin/xinqiao", "rotate-keys"])
    cli.main()
    assert seen == [["xinqiao", "rotate_keys"]]


def test_sync_roles_command_makes_groups_match_the_file(db) -> None:
    Group.objects.filter(name="police").delete()
    extra = Group.objects.create(name="police")
    out = StringIO()
    call_command("sync_roles", stdout=out)
    assert out.getvalue().strip() == f"{len(all_roles())} roles synchronised"
    police = Group.objects.get(name="police")
    assert police.pk == extra.pk
    perms = {f"{p.content_type.app_label}.{p.codename}" for p in police.permissions.select_related("content_type")}
    assert perms == set(all_roles()["police"].permissions)
    assert set(all_roles()) <= set(Group.objects.values_list("name", flat=True))
