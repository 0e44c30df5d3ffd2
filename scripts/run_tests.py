#!/usr/bin/env python3
"""Run the suite on SQLite, then on PostgreSQL when one is reachable; say what ran and what not.

Each database gets two pytest passes: the ordinary tests (each inside a rolled-back transaction)
and the ``flushes`` tests (browser tests and others that need real commits; they empty the tables).
PostgreSQL: ``DATABASE_URL`` if it names one, else the local server on 127.0.0.1:5432 (user
postgres) if it answers. Browser tests need Debian's chromium at ``XINQIAO_CHROMIUM`` (default
/usr/bin/chromium). ``XINQIAO_REQUIRE_POSTGRES=1`` / ``XINQIAO_REQUIRE_BROWSER=1`` (set by .ci/run)
turn a skip into a failure.

The two databases' passes are independent (their own test database, a locmem cache, Redis tests
on key prefixes of their own, live servers on free ports), so with two or more CPUs they run side by
side, each writing to a log that is printed whole when it ends: the suite takes about half the
wall time. ``XINQIAO_TEST_SEQUENTIAL=1`` runs them one after the other with live output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LOCAL_PG = "postgres://postgres@127.0.0.1:5432/xinqiao"


def postgres_url() -> tuple[str | None, str]:
    """A reachable PostgreSQL URL, or None and the reason."""
    url = os.environ.get("DATABASE_URL", "")
    if url and not url.startswith(("postgres://", "postgresql://")):
        url = ""
    candidate = url or LOCAL_PG
    try:
        import psycopg

        base = candidate.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(base, connect_timeout=3):
            pass
    except Exception as exc:
        return None, f"PostgreSQL not reachable at {candidate.split('@')[-1]} ({type(exc).__name__}: {str(exc).strip()[:120]})"
    return candidate, ""


def browser_status() -> tuple[bool, str]:
    """Whether Debian's chromium is there for the browser tests."""
    path = os.environ.get("XINQIAO_CHROMIUM", "/usr/bin/chromium")
    if Path(path).exists() or shutil.which(path):
        return True, ""
    return False, f"no Chromium at {path} (install Debian's 'chromium' package)"


def pytest_pass(env: dict[str, str], marker: str, label: str) -> int:
    cmd = [PYTHON, "-m", "pytest", "-m", marker, "-p", "no:cacheprovider"]
    print(f"\n=== {label}: pytest -m '{marker}' ===", flush=True)
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    return 0 if code == 5 else code  # 5 = nothing collected for this marker


def database_passes(env: dict[str, str], label: str) -> int:
    """The ordinary pass, then the flushing and browser pass, of one database."""
    failures = pytest_pass(env, "not flushes", label)
    failures += pytest_pass(env, "flushes", f"{label} (flushing and browser tests)")
    return failures


def in_background(env: dict[str, str], label: str, log: Path) -> subprocess.Popen[bytes]:
    """``database_passes`` of one database in a child process whose output goes to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen([PYTHON, __file__, "--database-passes", label], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def main() -> int:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["XINQIAO_ENV"] = "test"
    has_browser, browser_reason = browser_status()
    if not has_browser:
        env["XINQIAO_SKIP_BROWSER_REASON"] = browser_reason
    ran: list[str] = []
    skipped: list[str] = []
    failures = 0

    pg, pg_reason = postgres_url()
    pg_env = {**env, "DATABASE_URL": pg or "", "XINQIAO_TEST_DB_NAME": f"test_xinqiao_{os.getpid()}"}
    side_by_side = bool(pg) and (os.cpu_count() or 1) >= 2 and os.environ.get("XINQIAO_TEST_SEQUENTIAL") != "1"
    if side_by_side:
        logs = ROOT / "var" / "test-logs"
        logs.mkdir(parents=True, exist_ok=True)
        print("=== SQLite and PostgreSQL passes side by side (logs in var/test-logs/) ===", flush=True)
        runs = [(label, log, in_background(e, label, log)) for label, e, log in (
            ("SQLite", env, logs / "sqlite.log"), ("PostgreSQL", pg_env, logs / "postgresql.log"))]
        while any(proc.poll() is None for _, _, proc in runs):  # a sign of life every minute
            time.sleep(1)
            if int(time.monotonic()) % 60 == 0:
                print("  …", "; ".join(f"{label}: {'done' if proc.poll() is not None else 'running'}"
                                      for label, _, proc in runs), flush=True)
        for label, log, proc in runs:
            code = proc.wait()
            print(f"\n##### {label} #####", flush=True)
            sys.stdout.write(log.read_text(encoding="utf-8", errors="replace"))
            print(f"##### {label}: {'passed' if code == 0 else 'FAILED'} #####", flush=True)
            failures += 1 if code else 0
        ran.extend(["SQLite", "PostgreSQL"])
    else:
        failures += database_passes(env, "SQLite")
        ran.append("SQLite")
        if pg:
            failures += database_passes(pg_env, "PostgreSQL")
            ran.append("PostgreSQL")
    if not pg:
        skipped.append(f"PostgreSQL pass skipped: {pg_reason}")
    if not has_browser:
        skipped.append(f"browser tests skipped: {browser_reason}")

    print("\n=== summary ===")
    print(f"databases: {', '.join(ran)}")
    for line in skipped:
        print(line)
    if os.environ.get("XINQIAO_REQUIRE_POSTGRES") == "1" and "PostgreSQL" not in ran:
        print("FAIL: XINQIAO_REQUIRE_POSTGRES=1 but the PostgreSQL pass was skipped")
        failures += 1
    if os.environ.get("XINQIAO_REQUIRE_BROWSER") == "1" and not has_browser:
        print("FAIL: XINQIAO_REQUIRE_BROWSER=1 but the browser tests were skipped")
        failures += 1
    print("result:", "FAILED" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--database-passes":
        sys.exit(1 if database_passes(dict(os.environ), sys.argv[2]) else 0)
    sys.exit(main())
