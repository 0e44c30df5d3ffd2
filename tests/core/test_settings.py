"""Tests for settings.py (production refuses demo or missing secrets) and the envvars readers."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from xinqiao import settings as xq_settings
from xinqiao.envvars import env_bool, env_choice, env_int, env_list, env_str, parse_key_ring

ROOT = Path(__file__).resolve().parents[2]


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _std_b64(urlsafe: str) -> str:
    return urlsafe.replace("-", "+").replace("_", "/")


def _production_env(**overrides: str | None) -> dict[str, str]:
    """A clean environment for a production start: proper values, then ``overrides`` (None = unset)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("XINQIAO_", "DJANGO_")) and k not in ("DATABASE_URL", "PYTHONPATH", "REDIS_URL")}
    env.update({
        "XINQIAO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "xinqiao.settings",
        "PYTHONPATH": str(ROOT / "src"),
        "XINQIAO_SECRET_KEY": secrets.token_urlsafe(48)[:64],
        "XINQIAO_FIELD_KEYS": f"k2026:{_key()}",
        "XINQIAO_BLIND_INDEX_KEY": _key(),
        "XINQIAO_ALLOWED_HOSTS": "example.org",
        "DATABASE_URL": "sqlite:////tmp/xq-deploy-check.sqlite3",
    })
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _setup(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )


DEMO_FIELD_KEY = xq_settings.DEMO_FIELD_KEYS.split(":", 1)[1]


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        pytest.param({"XINQIAO_SECRET_KEY": None}, "XINQIAO_SECRET_KEY", id="no-secret"),
        pytest.param({"XINQIAO_SECRET_KEY": xq_settings.DEMO_SECRET_KEY}, "XINQIAO_SECRET_KEY", id="demo-secret"),
        pytest.param({"XINQIAO_SECRET_KEY": "x" * 49}, "XINQIAO_SECRET_KEY", id="short-secret"),
        pytest.param({"XINQIAO_FIELD_KEYS": None}, "XINQIAO_FIELD_KEYS", id="no-field-keys"),
        pytest.param({"XINQIAO_FIELD_KEYS": xq_settings.DEMO_FIELD_KEYS}, "XINQIAO_FIELD_KEYS", id="demo-field-key"),
        pytest.param({"XINQIAO_FIELD_KEYS": f"new:{_key()},old:{_std_b64(DEMO_FIELD_KEY)}"}, "XINQIAO_FIELD_KEYS",
                     id="demo-field-key-renamed-in-ring"),
        pytest.param({"XINQIAO_FIELD_KEYS": "k1:c2hvcnQ="}, "XINQIAO_FIELD_KEYS", id="short-field-key"),
        pytest.param({"XINQIAO_BLIND_INDEX_KEY": None}, "XINQIAO_BLIND_INDEX_KEY", id="no-blind-key"),
        pytest.param({"XINQIAO_BLIND_INDEX_KEY": xq_settings.DEMO_BLIND_INDEX_KEY}, "XINQIAO_BLIND_INDEX_KEY",
                     id="demo-blind-key"),
        pytest.param({"XINQIAO_BLIND_INDEX_KEY": _std_b64(xq_settings.DEMO_BLIND_INDEX_KEY)},
                     "XINQIAO_BLIND_INDEX_KEY", id="demo-blind-key-standard-base64"),
        pytest.param({"XINQIAO_BLIND_INDEX_KEY": xq_settings.DEMO_BLIND_INDEX_KEY.rstrip("=")},
                     "XINQIAO_BLIND_INDEX_KEY", id="demo-blind-key-unpadded"),
        pytest.param({"XINQIAO_ALLOWED_HOSTS": None}, "XINQIAO_ALLOWED_HOSTS", id="no-allowed-hosts"),
        pytest.param({"XINQIAO_ALLOWED_HOSTS": " , "}, "XINQIAO_ALLOWED_HOSTS", id="blank-allowed-hosts"),
        pytest.param({"XINQIAO_DEBUG": "1"}, "XINQIAO_DEBUG", id="debug-on"),
        pytest.param({"XINQIAO_DEBUG": "maybe"}, "XINQIAO_DEBUG", id="debug-nonsense"),
        pytest.param({"XINQIAO_2FA_FORCED": "0"}, "XINQIAO_2FA_FORCED", id="2fa-off"),
        pytest.param({"XINQIAO_ENV": "prod"}, "XINQIAO_ENV", id="unknown-env"),
    ],
)
def test_production_refuses_to_start(overrides: dict[str, str | None], variable: str) -> None:
    result = _setup(_production_env(**overrides))
    assert result.returncode != 0
    assert "started" not in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr[-2000:]
    assert variable in last


def test_production_starts_with_proper_values() -> None:
    result = _setup(_production_env())
    assert result.returncode == 0, result.stderr[-2000:]
    assert "started" in result.stdout


def test_demo_and_test_environments_start_with_the_demo_keys() -> None:
    for env_name in ("demo", "test"):
        env = _production_env(XINQIAO_ENV=env_name, XINQIAO_SECRET_KEY=None, XINQIAO_FIELD_KEYS=None,
                              XINQIAO_BLIND_INDEX_KEY=None, XINQIAO_ALLOWED_HOSTS=None)
        result = _setup(env)
        assert result.returncode == 0, result.stderr[-2000:]


def test_check_deploy_passes_with_proper_values() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=_production_env(), cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_security_settings() -> None:
    code = ("from django.conf import settings as s; "
            "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
            "s.SECURE_HSTS_SECONDS >= 31536000, s.XINQIAO_2FA_FORCED, s.ALLOWED_HOSTS)")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=_production_env(XINQIAO_ALLOWED_HOSTS="example.org, www.example.org"), cwd=ROOT,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "True", "True", "True", "True", "True",
                                     "['example.org',", "'www.example.org']"]


# --------------------------------------------------------------------------- envvars


@pytest.mark.parametrize(("raw", "expected"), [
    ("1", True), ("true", True), ("YES", True), (" on ", True),
    ("0", False), ("false", False), ("No", False), ("off", False), ("", False),
])
def test_env_bool(monkeypatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("XQ_TEST_BOOL", raw)
    assert env_bool("XQ_TEST_BOOL", default=not expected) is expected


def test_env_bool_default_and_error(monkeypatch) -> None:
    monkeypatch.delenv("XQ_TEST_BOOL", raising=False)
    assert env_bool("XQ_TEST_BOOL") is False
    assert env_bool("XQ_TEST_BOOL", default=True) is True
    monkeypatch.setenv("XQ_TEST_BOOL", "sure")
    with pytest.raises(ImproperlyConfigured, match=r"XQ_TEST_BOOL must be a boolean.*'sure'"):
        env_bool("XQ_TEST_BOOL")


def test_env_int(monkeypatch) -> None:
    monkeypatch.delenv("XQ_TEST_INT", raising=False)
    assert env_int("XQ_TEST_INT", 15) == 15
    monkeypatch.setenv("XQ_TEST_INT", "  ")
    assert env_int("XQ_TEST_INT", 15) == 15
    monkeypatch.setenv("XQ_TEST_INT", "30")
    assert env_int("XQ_TEST_INT", 15, minimum=1) == 30
    monkeypatch.setenv("XQ_TEST_INT", "0")
    with pytest.raises(ImproperlyConfigured, match="XQ_TEST_INT must be at least 1, got 0"):
        env_int("XQ_TEST_INT", 15, minimum=1)
    monkeypatch.setenv("XQ_TEST_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match="XQ_TEST_INT must be an integer, got 'ten'"):
        env_int("XQ_TEST_INT", 15)


def test_env_list(monkeypatch) -> None:
    monkeypatch.delenv("XQ_TEST_LIST", raising=False)
    assert env_list("XQ_TEST_LIST") == []
    assert env_list("XQ_TEST_LIST", ["a"]) == ["a"]
    monkeypatch.setenv("XQ_TEST_LIST", " example.org, ,www.example.org ,")
    assert env_list("XQ_TEST_LIST", ["a"]) == ["example.org", "www.example.org"]
    monkeypatch.setenv("XQ_TEST_LIST", "")
    assert env_list("XQ_TEST_LIST", ["a"]) == []


def test_env_str_and_choice(monkeypatch) -> None:
    monkeypatch.delenv("XQ_TEST_STR", raising=False)
    assert env_str("XQ_TEST_STR", "fallback") == "fallback"
    assert env_choice("XQ_TEST_STR", ("a", "b"), "a") == "a"
    monkeypatch.setenv("XQ_TEST_STR", " B ")
    assert env_choice("XQ_TEST_STR", ("a", "b"), "a") == "b"
    monkeypatch.setenv("XQ_TEST_STR", "c")
    with pytest.raises(ImproperlyConfigured, match="XQ_TEST_STR must be one of a, b, got 'c'"):
        env_choice("XQ_TEST_STR", ("a", "b"), "a")


def test_parse_key_ring_order_and_alphabets() -> None:
    k1, k2 = os.urandom(32), os.urandom(32)
    raw = (f"new:{base64.b64encode(k1).decode()}, "
           f"old:{base64.urlsafe_b64encode(k2).decode().rstrip('=')},")
    ring = parse_key_ring("XQ_KEYS", raw)
    assert list(ring) == ["new", "old"]
    assert ring == {"new": k1, "old": k2}
    assert parse_key_ring("XQ_KEYS", "") == {}


@pytest.mark.parametrize(("raw", "message"), [
    ("nocolon", "each entry must be 'id:base64key'"),
    (":" + "A" * 44, "each entry must be 'id:base64key'"),
    ("bad-id:" + "A" * 44, "each entry must be 'id:base64key'"),
    ("k1:abcde", "'k1' is not valid base64"),
    ("k1:" + base64.b64encode(b"x" * 16).decode(), "'k1' must be 32 bytes, got 16"),
    ("k1:" + base64.b64encode(b"x" * 33).decode(), "'k1' must be 32 bytes, got 33"),
    ("k1:" + "A" * 43 + "=,k1:" + "B" * 43 + "=", "key id 'k1' appears twice"),
])
def test_parse_key_ring_errors(raw: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"^XQ_KEYS: .*{message.replace('(', '[(]')}"):
        parse_key_ring("XQ_KEYS", raw)
