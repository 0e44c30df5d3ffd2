"""Screening load benchmark: sustained PHQ-9 submissions against a production-like server.

Run:  xinqiao bench screening-load --seconds 30
      (or: XINQIAO_ENV=test python -m bench.screening_load --seconds 30)

What it does, all on 127.0.0.1 and for a fixed duration:

1. creates a fresh PostgreSQL database ``xinqiao_bench_<pid>`` on the server of ``--database-url``
   (default: ``DATABASE_URL`` when it names PostgreSQL, else postgres@127.0.0.1:5432) and migrates
   it with ``XINQIAO_ENV=production`` and freshly generated secrets (SECRET_KEY, field and
   blind-index keys), DEBUG off, persistent connections (``XINQIAO_DB_CONN_MAX_AGE=60``);
2. starts gunicorn on ``xinqiao.wsgi:application`` (the whole middleware stack, django-ninja,
   scoring, the idempotency look-up and the INSERT), warms it up, then runs ``wrk`` for
   ``--seconds`` with a bounded number of connections: ``POST /api/v1/screening/responses`` with a
   PHQ-9 body and a unique ``Idempotency-Key`` per request (Lua counter + wrk thread + run nonce);
3. the same load against the *baseline*: gunicorn on :func:`baseline_application` below, same
   settings and database, a bare WSGI callable that reads the body and stores the row with one
   ``INSERT`` (no middleware, no routing, no validation, no scoring);
4. stops everything it started (process groups), drops the database, and prints one JSON line.

Output keys (contract): ``submissions_per_s``, ``p50_ms``, ``p99_ms``, ``errors`` (socket errors +
any status other than 201), ``baseline_per_s``, ``ratio`` (``submissions_per_s / baseline_per_s``).
Extras: ``baseline_p50_ms``, ``baseline_p99_ms``, ``baseline_errors``, ``requests`` (completed in the
measured run), ``stored_rows`` (rows the full endpoint stored during the measured run, read back from
the database: at least the 201s, plus any still in flight when wrk stopped),
``server_cpu_ms_per_req`` / ``db_cpu_ms_per_req`` (CPU time of the gunicorn process group and of the
database's PostgreSQL backends during the measured run, per completed request; also for the
baseline: on a shared machine these say more than requests/s), ``target_met`` (≥ 800/s
and p99 ≤ 250 ms), ``workers``, ``threads``, ``worker_class``, ``connections``, ``wrk_threads``,
``seconds``, ``warmup_s``, ``database``, ``loadavg_1m`` (the machine's load before the run: other
work on the box skews every figure).

``--app 'bench.screening_load:fastpath_application()'`` measures the lean path for anonymous
submissions (``xinqiao.screening.fastpath``) as production runs it once ``MIDDLEWARE`` lists it
first; ``--redis-url`` puts the rate-limit counters in Redis, as in production (default: the
per-process local-memory cache).

Latencies are wrk's (closed loop: a slow response delays the next request on that connection, so
p99 under-reports what an open-loop client would see once the server saturates).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCAL_PG = "postgres://postgres@127.0.0.1:5432/xinqiao"
PATH = "/api/v1/screening/responses"
APP = "xinqiao.wsgi:application"
TARGET_PER_S = 800
TARGET_P99_MS = 250

#: PHQ-9 answer sets cycled by the load generator: minimal to severe, some with item 9 (alert).
ANSWER_SETS = [
    [0, 0, 0, 0, 0, 0, 0, 0, 0],
    [1, 0, 1, 0, 1, 0, 1, 0, 0],
    [1, 1, 1, 1, 1, 1, 1, 1, 0],
    [2, 1, 2, 1, 2, 1, 2, 1, 0],
    [2, 2, 2, 2, 2, 2, 2, 2, 1],
    [3, 2, 3, 2, 3, 2, 3, 2, 0],
    [3, 3, 3, 3, 3, 3, 3, 3, 2],
    [0, 1, 0, 1, 0, 1, 0, 1, 0],
]
REGION_CODE = "440106"

WRK_SCRIPT = r"""
-- Unique Idempotency-Key per request: <run nonce>-<wrk thread>-<counter>; bodies cycle.
local bodies = { %(bodies)s }
local n = 0
prefix = "run"
tid = 0
bad = 0
local threads = {}
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1] or "run"
end

function request()
  n = n + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = prefix .. "-" .. tid .. "-" .. n
  return wrk.format("POST", "%(path)s", headers, bodies[(n %% #bodies) + 1])
end

function response(status, headers, body)
  if status ~= 201 then bad = bad + 1 end
end

function done(summary, latency, requests)
  local not201 = 0
  for _, t in ipairs(threads) do not201 = not201 + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"not_201":%%d,"connect":%%d,"read":%%d,"write":%%d,' ..
    '"timeout":%%d,"status":%%d,"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"max_us":%%d,"mean_us":%%.1f}\n',
    summary.requests, summary.duration, not201, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the JSON line."""
    print(f"[screening-load] {message}", file=sys.stderr, flush=True)


# --- The baseline server -------------------------------------------------------------------------

def baseline_application() -> Any:
    """Gunicorn factory (``bench.screening_load:baseline_application()``): the floor of the endpoint.

    Same Django settings and database connection handling (thread-local, kept open); per request it
    reads the JSON body and stores one ``screening_screeningresponse`` row with a single INSERT.
    """
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinqiao.settings")
    django.setup()
    from django.db import connection

    sql = (
        "INSERT INTO screening_screeningresponse (source, instrument, instrument_version, answers, total,"
        " standard_score, band, positive, subscales, alerts, risk, participant_name, participant_number,"
        " submission_key, submission_fingerprint, submitted_at, region_id, province_code, city_code, county_code,"
        " township_code)"
        " VALUES ('public', 'phq9', '1.0.0', %s, 0, NULL, 'minimal', false, '{}', '[]', '', '', '', %s, '', now(),"
        " %s, %s, %s, %s, '') RETURNING id"
    )
    region = [REGION_CODE, REGION_CODE[:2], REGION_CODE[:4], REGION_CODE]

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["REQUEST_METHOD"] != "POST":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        key = "anon:" + environ.get("HTTP_IDEMPOTENCY_KEY", secrets.token_hex(8))[:100] + "#baseline"
        try:
            with connection.cursor() as cur:
                cur.execute(sql, [json.dumps(body.get("answers", [])), key, *region])
                pk = cur.fetchone()[0]
        except Exception:
            connection.close()  # a broken connection is reopened by the next request
            start_response("500 Internal Server Error", [("Content-Length", "0")])
            return [b""]
        payload = b'{"id": %d}' % pk
        start_response("201 Created", [("Content-Type", "application/json"),
                                       ("Content-Length", str(len(payload)))])
        return [payload]

    return app


FASTPATH_MIDDLEWARE = "xinqiao.screening.fastpath.AnonymousSubmissionMiddleware"


def fastpath_application() -> Any:
    """Gunicorn factory (``--app 'bench.screening_load:fastpath_application()'``): ``xinqiao.wsgi``'s
    application with the lean path for anonymous submissions first in ``MIDDLEWARE``, as production
    runs it once the settings list it (then this adds nothing)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinqiao.settings")
    from django.conf import settings

    if FASTPATH_MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [FASTPATH_MIDDLEWARE, *settings.MIDDLEWARE]
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


# --- Plumbing ------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fernetish_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _admin_url(database_url: str) -> str:
    url = database_url or os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = LOCAL_PG
    return url.rsplit("/", 1)[0] + "/postgres"


def server_env(database_url: str, tmp: Path, redis_url: str = "") -> dict[str, str]:
    """Production settings with generated secrets, for the migration and both servers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XINQIAO_", "DJANGO_"))}
    pythonpath = [str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")]
    env.update({
        "PYTHONPATH": os.pathsep.join(p for p in pythonpath if p),
        "DJANGO_SETTINGS_MODULE": "xinqiao.settings",
        "XINQIAO_ENV": "production",
        "XINQIAO_SECRET_KEY": secrets.token_urlsafe(48),
        "XINQIAO_FIELD_KEYS": f"bench1:{_fernetish_key()}",
        "XINQIAO_BLIND_INDEX_KEY": _fernetish_key(),
        "XINQIAO_ALLOWED_HOSTS": "127.0.0.1",
        "XINQIAO_SSL_REDIRECT": "0",
        "XINQIAO_DB_CONN_MAX_AGE": "60",
        "XINQIAO_LOG_LEVEL": "WARNING",
        # One loopback client stands for many people: lift the per-address limit (it is still counted).
        "XINQIAO_PUBLIC_RATE": "1000000000/60",
        "XINQIAO_VAR_DIR": str(tmp / "var"),
        "XINQIAO_STATIC_ROOT": str(tmp / "static"),
        "DATABASE_URL": database_url,
    })
    (tmp / "static").mkdir(parents=True, exist_ok=True)
    env.pop("REDIS_URL", None)
    if redis_url:  # the cache (rate-limit counters) as in production
        env["REDIS_URL"] = redis_url
    return env


class Server:
    """A gunicorn master in its own process group; ``stop()`` ends the whole group."""

    def __init__(self, app: str, env: dict[str, str], log_path: Path, *, workers: int, threads: int,
                 worker_class: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        cmd = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{self.port}",
               "--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads),
               "--backlog", "2048", "--log-level", "warning", "--graceful-timeout", "5"]
        shm = "/dev/shm"  # noqa: S108 (gunicorn's advice for its heartbeat files)
        if Path(shm).is_dir():
            cmd += ["--worker-tmp-dir", shm]
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,  # noqa: S603
                                     start_new_session=True)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]

    def wait_ready(self, timeout: float = 60) -> None:
        """Until one real submission answers 201 (one worker is up; the warm-up reaches the others)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, body = post(self.url + PATH, ANSWER_SETS[0], f"ready-{secrets.token_hex(6)}")
            except (OSError, urllib.error.URLError) as exc:
                last = str(exc)
                time.sleep(0.2)
                continue
            if status == 201:
                return
            raise RuntimeError(f"{self.url}{PATH} answered {status}: {body[:500]!r}\n{self.log_tail()}")
        raise RuntimeError(f"gunicorn not ready after {timeout}s ({last}):\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # Workers left behind by a dying master are in the same group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()


def post(url: str, answers: list[int], key: str) -> tuple[int, bytes]:
    body = json.dumps({"instrument": "phq9", "answers": answers, "region_code": REGION_CODE}).encode()
    request = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 (loopback only)
                                     headers={"Content-Type": "application/json", "Idempotency-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def run_wrk(url: str, script: Path, seconds: int, connections: int, threads: int, nonce: str) -> dict[str, Any]:
    """One bounded wrk run; its Lua ``done()`` prints the figures as JSON."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency",
           "-s", str(script), url + PATH, "--", nonce]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    for line in result.stdout.splitlines():
        if line.startswith("WRKJSON "):
            figures: dict[str, Any] = json.loads(line[len("WRKJSON "):])
            figures["per_s"] = figures["requests"] / (figures["duration_us"] / 1e6)
            figures["errors"] = (figures["not_201"] + figures["connect"] + figures["read"] + figures["write"]
                                 + figures["timeout"])
            return figures
    raise RuntimeError(f"wrk printed no figures (exit {result.returncode}):\n{result.stdout}\n{result.stderr}")


def cpu_seconds(pgid: int, database: str) -> tuple[float, float] | None:
    """CPU seconds so far of (the server's process group, the PostgreSQL backends of ``database``),
    from /proc; None where there is no /proc."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    server = backends = 0.0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(fields[2]) == pgid:
            server += used
        elif cmdline.startswith("postgres:") and f" {database} " in cmdline:
            backends += used
    return server, backends


def load(server: Server, script: Path, *, seconds: int, warmup: int, connections: int,
         wrk_threads: int, database: str) -> dict[str, Any]:
    server.wait_ready()
    if warmup:
        run_wrk(server.url, script, warmup, connections, wrk_threads, f"w{secrets.token_hex(4)}")
    nonce = f"r{secrets.token_hex(4)}"
    before = cpu_seconds(server.proc.pid, database)
    figures = run_wrk(server.url, script, seconds, connections, wrk_threads, nonce)
    after = cpu_seconds(server.proc.pid, database)
    figures["nonce"] = nonce
    if before and after and figures["requests"]:
        figures["server_cpu_ms"] = round((after[0] - before[0]) * 1000 / figures["requests"], 2)
        figures["db_cpu_ms"] = round((after[1] - before[1]) * 1000 / figures["requests"], 2)
    return figures


@contextlib.contextmanager
def throwaway_database(admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards (even if connections linger)."""
    import psycopg

    name = f"xinqiao_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _count_rows(database_url: str, like: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM screening_screeningresponse WHERE submission_key LIKE %s",
                           [like]).fetchone()
    return int(row[0]) if row else 0


def _raise_on_sigterm() -> Any:
    """Turn SIGTERM into SystemExit so the ``finally`` blocks stop the servers and drop the database."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def _exit(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    return signal.signal(signal.SIGTERM, _exit)


# --- The benchmark -------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``xinqiao bench screening-load`` (and ``python -m bench.screening_load``)."""
    parser.add_argument("--seconds", type=int, default=30, help="duration of each measured load (default 30)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="warm-up seconds before each measured load (default: seconds/3, 3..10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (default 1)")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"],
                        help="gunicorn worker class (default sync)")
    parser.add_argument("--database-url", default="",
                        help="a PostgreSQL URL naming the server to use (default: DATABASE_URL, else "
                             "postgres@127.0.0.1:5432)")
    parser.add_argument("--redis-url", default="",
                        help="use this Redis as the cache, as production does (default: none, the per-process "
                             "local-memory cache)")
    parser.add_argument("--skip-baseline", action="store_true", help="measure only the full endpoint")
    parser.add_argument("--app", default=APP,
                        help=f"the WSGI application under load (default {APP}); a variant module on "
                             "PYTHONPATH lets a change be measured without editing src/")


def run(*, seconds: int = 30, warmup: int | None = None, connections: int = 32, wrk_threads: int = 1,
        workers: int = 4, threads: int = 1, worker_class: str = "sync", database_url: str = "",
        skip_baseline: bool = False, app: str = APP, redis_url: str = "", **_: Any) -> dict[str, Any]:
    """Run both loads and return the figures (the JSON line's content)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    if seconds < 1 or connections < 1 or workers < 1 or threads < 1 or wrk_threads < 1:
        raise ValueError("seconds, connections, workers, threads and wrk threads must be at least 1")
    if worker_class == "sync" and threads > 1:
        worker_class = "gthread"  # what gunicorn itself does with --threads > 1
    # Each worker's first requests import the URLconf, django-ninja and the instruments (~1 s of CPU
    # per worker): the warm-up must outlast that, or the measured run starts with workers still cold.
    warmup = max(3, min(10, seconds // 3)) if warmup is None else max(0, warmup)
    wrk_threads = min(wrk_threads, connections)
    admin_url = _admin_url(database_url)
    loadavg = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="xinqiao-screening-load-"))
    script = tmp / "submit.lua"
    bodies = ", ".join(
        json.dumps(json.dumps({"instrument": "phq9", "answers": a, "region_code": REGION_CODE}))
        for a in ANSWER_SETS
    )
    script.write_text(WRK_SCRIPT % {"bodies": bodies, "path": PATH})
    shape: dict[str, Any] = {"workers": workers, "threads": threads, "worker_class": worker_class}
    previous_sigterm = _raise_on_sigterm()
    try:
        with throwaway_database(admin_url) as name:
            db_url = admin_url.rsplit("/", 1)[0] + f"/{name}"
            env = server_env(db_url, tmp, redis_url)
            log(f"database {name}: migrating")
            migrated = subprocess.run([sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"],
                                      cwd=ROOT, env=env, capture_output=True, text=True, check=False)
            if migrated.returncode:
                raise RuntimeError(f"migrate failed:\n{migrated.stdout}\n{migrated.stderr}")

            log(f"full endpoint: gunicorn {workers}x{worker_class}/{threads}, wrk -c{connections} "
                f"{warmup}s warm-up + {seconds}s")
            server = Server(app, env, tmp / "gunicorn-app.log", **shape)
            try:
                full = load(server, script, seconds=seconds, warmup=warmup, connections=connections,
                            wrk_threads=wrk_threads, database=name)
            finally:
                server.stop()
            stored = _count_rows(db_url, f"anon:{full['nonce']}-%")
            base: dict[str, Any] = {}
            if not skip_baseline:
                log("baseline: one INSERT per request, same server shape and load")
                server = Server("bench.screening_load:baseline_application()", env,
                                tmp / "gunicorn-baseline.log", **shape)
                try:
                    base = load(server, script, seconds=seconds, warmup=warmup, connections=connections,
                                wrk_threads=wrk_threads, database=name)
                finally:
                    server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)

    per_s = round(full["per_s"], 1)
    p50, p99 = round(full["p50_us"] / 1000, 2), round(full["p99_us"] / 1000, 2)
    baseline_per_s = round(base["per_s"], 1) if base else None
    return {
        "submissions_per_s": per_s,
        "p50_ms": p50,
        "p99_ms": p99,
        "errors": int(full["errors"]),
        "baseline_per_s": baseline_per_s,
        "ratio": round(full["per_s"] / base["per_s"], 3) if base else None,
        "baseline_p50_ms": round(base["p50_us"] / 1000, 2) if base else None,
        "baseline_p99_ms": round(base["p99_us"] / 1000, 2) if base else None,
        "baseline_errors": int(base["errors"]) if base else None,
        "requests": int(full["requests"]),
        "server_cpu_ms_per_req": full.get("server_cpu_ms"),
        "db_cpu_ms_per_req": full.get("db_cpu_ms"),
        "baseline_server_cpu_ms_per_req": base.get("server_cpu_ms"),
        "baseline_db_cpu_ms_per_req": base.get("db_cpu_ms"),
        "stored_rows": stored,
        "target_met": per_s >= TARGET_PER_S and p99 <= TARGET_P99_MS and not full["errors"],
        **shape,
        **({"app": app} if app != APP else {}),
        "cache": "redis" if redis_url else "locmem",
        "connections": connections,
        "wrk_threads": wrk_threads,
        "seconds": seconds,
        "warmup_s": warmup,
        "database": "postgresql",
        "database_name": name,
        "loadavg_1m": round(loadavg, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    print(json.dumps(run(**options)), flush=True)


if __name__ == "__main__":
    main()
