"""Look-up of a registered patient by ID number (blind index): p50/p95 ms over random look-ups.

Run:  xinqiao bench lookup --patients 1000000 [--lookups 2000] [--seed 1] [--database-url URL]

1. Builds (or reuses, when a complete one with the same seed and size is there) the benchmark
   population of ``--patients`` synthetic patients (``patients/synth.py``: about 10 follow-ups
   each over ``--years``) in the configured database, or in ``--database-url`` (created and
   migrated when missing: use a dedicated database, e.g. ``postgres://postgres@127.0.0.1:5432/xq_bench``,
   so that nobody's tests are disturbed). Any other benchmark population there is removed first.
2. Draws ``--lookups`` patients at random, reads their ID numbers (decrypted, before timing), and
   looks each one up the way the application does: ``core.services.find_records_by_id_number``
   with ``Patient`` (validate the number, HMAC blind index; ONE query: the patient, restricted with
   ``Patient.objects.restrict(user)``, whose person — restricted with ``Person.objects.restrict(user)``
   — has that blind index, joined to the person), as a provincial mental-health-centre user
   (``mhc_staff`` at province level) who may see the whole population. The user object is reused
   across look-ups, as within one request: its roles and permissions are loaded once.
3. Prints ONE JSON line: ``patients``, ``followups`` (the population's), ``p50_ms``, ``p95_ms``,
   ``p99_ms``, ``mean_ms``, ``queries`` (per look-up, counted on one), ``lookups``, ``found``,
   ``client_cpu_ms`` (CPU of this process per look-up: steadier than wall time on a shared machine),
   ``peak_rss_mb``, ``built`` / ``build`` (the synth report when this run built the population),
   ``database``, ``loadavg_1m`` (the machine is shared: other work skews every figure).

Target (issue 3): ≤ 10 ms on PostgreSQL with 1,000,000 patients.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NAME = "lookup"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``xinqiao bench lookup``."""
    add_population_arguments(parser)
    parser.add_argument("--lookups", type=int, default=2000, help="timed look-ups (at least 1000 for the figures)")


def add_population_arguments(parser: argparse.ArgumentParser) -> None:
    """Options every population benchmark shares (lookup, worklist)."""
    parser.add_argument("--patients", type=int, default=10_000, help="size of the synthetic population")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--years", type=int, default=3, help="years of follow-up history")
    parser.add_argument("--region", default="44", help="region code the population spreads over (default 广东省)")
    parser.add_argument("--workers", type=int, default=0, help="synth generator processes (0: one per CPU)")
    parser.add_argument("--database-url", default="",
                        help="run against this database (created and migrated when missing) instead of the "
                             "configured one")


# --- Running in another database ------------------------------------------------------------------

def log(message: str) -> None:
    """Progress on stderr; stdout carries only the JSON line."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def current_database_url() -> str:
    """The configured database, as a comparable ``vendor:name``."""
    from django.db import connection

    return f"{connection.vendor}:{connection.settings_dict['NAME']}"


def wanted_database(url: str) -> str:
    import dj_database_url

    parsed = dj_database_url.parse(url)
    vendor = "postgresql" if "postgresql" in parsed["ENGINE"] else "sqlite" if "sqlite" in parsed["ENGINE"] else "?"
    return f"{vendor}:{parsed['NAME']}"


def prepare_database(url: str, env: dict[str, str]) -> None:
    """Create the PostgreSQL database when missing; migrate it (a no-op when up to date)."""
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        admin = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                log(f"creating database {name}")
                conn.execute(f'CREATE DATABASE "{name}"')
    log("migrating")
    subprocess.run([sys.executable, "-m", "xinqiao.cli", "migrate", "--noinput", "-v", "0"],
                   env=env, cwd=ROOT, check=True, stdout=sys.stderr)


def run_in(url: str, name: str, options: dict[str, Any]) -> dict[str, Any]:
    """Run ``xinqiao bench <name>`` with the same options against ``url``; its JSON line."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "XINQIAO_TEST_DB_NAME")}
    env["DATABASE_URL"] = url
    env.setdefault("DJANGO_SETTINGS_MODULE", "xinqiao.settings")
    prepare_database(url, env)
    argv = [sys.executable, "-m", "xinqiao.cli", "bench", name]
    for key, value in options.items():
        if key == "database_url" or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        argv += [flag] if value is True else [flag, str(value)]
    done = subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"bench {name} against {url.rsplit('@', 1)[-1]} exited with {done.returncode}")
    lines = done.stdout.strip().splitlines()
    return dict(json.loads(lines[-1]))


def elsewhere(name: str, options: dict[str, Any]) -> dict[str, Any] | None:
    """When ``--database-url`` names another database, the figures from a run there; else ``None``."""
    url = options.get("database_url") or ""
    if not url or wanted_database(url) == current_database_url():
        return None
    return run_in(url, name, options)


# --- Shared measurement helpers ---------------------------------------------------------------------

def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) of ``samples``, by nearest rank."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


def figures(samples_ms: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean of millisecond samples, rounded."""
    return {
        "p50_ms": round(statistics.median(samples_ms), 3),
        "p95_ms": round(percentile(samples_ms, 0.95), 3),
        "p99_ms": round(percentile(samples_ms, 0.99), 3),
        "mean_ms": round(statistics.fmean(samples_ms), 3),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process (and of waited-for children, e.g. synth workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def population(options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Build or reuse the population; ``(population, json fields about it)``."""
    from django.db import connection

    from xinqiao.followups.models import FollowUp
    from xinqiao.patients import synth

    if options["patients"] < 1:
        raise ValueError("--patients must be at least 1")
    pop = synth.ensure_population(options["patients"], seed=options["seed"], years=options["years"],
                                  region=options["region"], workers=options["workers"], progress=log)
    followups = FollowUp.objects.filter(patient__submission_key__startswith=pop.prefix).count()
    return pop, {"patients": pop.patients, "followups": followups, "database": connection.vendor,
                 "built": pop.built, "build": pop.build}


def bench_user(username: str, role: str, region: str, organisation_id: int | None = None) -> Any:
    """A benchmark account with one role in ``region`` (created once; cannot sign in)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from xinqiao.core.models import User
    from xinqiao.core.roles import sync_roles

    if not Group.objects.filter(name=role).exists():
        sync_roles()
    user, _created = User.objects.update_or_create(
        username=username, defaults={"region_id": region, "organisation_id": organisation_id,
                                     "password": make_password(None), "display_name": username, "is_active": True})
    user.groups.set([Group.objects.get(name=role)])
    return User.objects.get(pk=user.pk)  # fresh: no cached roles or permissions


# --- The benchmark ---------------------------------------------------------------------------------

def lookup(user: Any, number: str) -> Any:
    """The application's look-up of a registered patient (with their person) by resident ID number."""
    from xinqiao.core.services import find_records_by_id_number
    from xinqiao.patients.models import Patient

    patients = find_records_by_id_number(user, Patient, "resident_id", number)
    return patients[0] if patients else None


def run(**options: Any) -> dict[str, Any]:
    """Build or reuse the population, time the look-ups, return the figures."""
    other = elsewhere(NAME, options)
    if other is not None:
        return other
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinqiao.patients.models import Patient

    if options["lookups"] < 1:
        raise ValueError("--lookups must be at least 1")
    pop, about = population(options)
    region = options["region"][:2]
    user = bench_user("bench_lookup", "mhc_staff", region)
    rng = random.Random(options["seed"])
    n = pop.patients
    keys = [f"{pop.prefix}{rng.randrange(n)}" for _ in range(options["lookups"])]
    numbers: dict[str, str] = {}
    for start in range(0, len(keys), 1000):
        for patient in Patient.objects.filter(submission_key__in=keys[start:start + 1000]).select_related("person"):
            numbers[str(patient.submission_key)] = patient.person.id_number
    sample = [numbers[k] for k in keys]
    log(f"{len(sample)} look-ups as a provincial centre user")
    for number in sample[:50]:  # warm-up: connection, permission cache, plans
        lookup(user, number)
    with CaptureQueriesContext(connection) as ctx:
        lookup(user, sample[0])
    queries = len(ctx.captured_queries)
    timings: list[float] = []
    found = 0
    cpu = time.process_time()
    for number in sample:
        t = time.perf_counter()
        patient = lookup(user, number)
        timings.append((time.perf_counter() - t) * 1000)
        found += patient is not None
    cpu_ms = (time.process_time() - cpu) * 1000 / len(sample)
    return {
        "benchmark": NAME, **about, **figures(timings), "queries": queries, "lookups": len(sample), "found": found,
        "client_cpu_ms": round(cpu_ms, 3), "peak_rss_mb": peak_rss_mb(), "loadavg_1m": loadavg(),
    }
