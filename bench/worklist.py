"""Work lists of a community doctor: server time p95 of ``/worklists/`` and its query count.

Run:  xinqiao bench worklist --patients 1000000 [--requests 300] [--seed 1] [--database-url URL]

1. Builds (or reuses) the benchmark population exactly as ``bench lookup`` does (same options,
   same population for the same seed and size; see ``bench/lookup.py``).
2. Picks the busiest clinic (the most patients managed at home; ``--clinic median`` for a typical
   one) and signs in, with the Django test client, as a community doctor of that clinic and township (``force_login`` with the second
   factor marked verified, as ``tests/helpers.py`` does): the caseload is the clinic's patients.
3. Times ``--requests`` GETs of the real ``/worklists/`` page (the overview: the six counts and
   the top of the overdue list) after a warm-up — the whole middleware stack, the view, the
   queries, the audit event and the template, in process (no network) — and counts its queries
   with ``CaptureQueriesContext``; then each list's own page (``/worklists/<list>/``) and the
   query functions directly (``worklists.queries.worklist_counts`` / ``worklist_page``).
4. Prints ONE JSON line: ``patients``, ``followups``, ``p50_ms``, ``p95_ms``, ``p99_ms``,
   ``mean_ms`` (the overview page), ``queries`` (its query count, the same at every request),
   ``client_cpu_ms`` (CPU of this process per request: the server's share of the time, steadier
   than wall time on a shared machine),
   ``caseload``, ``counts`` (the six lists), ``lists`` (per list page: p50/p95 and queries),
   ``functions`` (p50/p95 of the query functions), ``peak_rss_mb``, ``built`` / ``build``,
   ``database``, ``loadavg_1m``.

Target (issue 3): p95 ≤ 50 ms with a fixed, small query count, on PostgreSQL with 1,000,000
patients and 10,000,000 follow-ups.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.lookup import (
    add_population_arguments,
    bench_user,
    elsewhere,
    figures,
    loadavg,
    log,
    peak_rss_mb,
    population,
)

NAME = "worklist"
PATH = "/worklists/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``xinqiao bench worklist``."""
    add_population_arguments(parser)
    parser.add_argument("--requests", type=int, default=300, help="timed requests of the overview page")
    parser.add_argument("--list-requests", type=int, default=40, help="timed requests of each list's page")
    parser.add_argument("--clinic", choices=("busiest", "median"), default="busiest",
                        help="whose work lists: a doctor of the clinic with the most patients, or of the median one")


def pick_clinic(prefix: str, which: str = "busiest") -> tuple[int, str, int]:
    """(clinic id, its township, patients managed at home) of the busiest clinic, or of the median one."""
    from django.db.models import Count

    from xinqiao.patients.codes import PatientStatus
    from xinqiao.patients.models import Patient

    rows = list(Patient.objects.filter(submission_key__startswith=prefix, status=PatientStatus.MANAGED)
                .values("managing_organisation_id", "township_code").annotate(n=Count("id"))
                .order_by("-n", "managing_organisation_id"))
    if not rows:
        raise RuntimeError("the population has no patient managed at home")
    row = rows[0] if which == "busiest" else rows[len(rows) // 2]
    return int(row["managing_organisation_id"]), str(row["township_code"]), int(row["n"])


def signed_in_client(user: Any) -> Any:
    """A test client signed in as ``user`` with the second factor verified (cf. tests/helpers.py)."""
    import django_otp
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device, _created = TOTPDevice.objects.get_or_create(user=user, defaults={"name": "bench", "confirmed": True})
    session = client.session
    session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def timed_get(client: Any, path: str, n: int) -> list[float]:
    """``n`` GETs of ``path``; milliseconds each. Anything but 200 is an error."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - t) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}")
    return out


def query_count(client: Any, path: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return len(ctx.captured_queries)


def time_function(fn: Any, n: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()
    with CaptureQueriesContext(connection) as ctx:
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    out = figures(samples)
    return {"p50_ms": out["p50_ms"], "p95_ms": out["p95_ms"], "queries": len(ctx.captured_queries)}


def run(**options: Any) -> dict[str, Any]:
    """Build or reuse the population, time the work-list page and queries, return the figures."""
    other = elsewhere(NAME, options)
    if other is not None:
        return other
    from xinqiao.worklists import queries, rules

    if options["requests"] < 1 or options["list_requests"] < 1:
        raise ValueError("--requests and --list-requests must be at least 1")
    pop, about = population(options)
    clinic, township, caseload = pick_clinic(pop.prefix, options["clinic"])
    user = bench_user("bench_worklist", "community_doctor", township, organisation_id=clinic)
    log(f"community doctor of the {options['clinic']} clinic ({clinic}, {township}): "
        f"{caseload} patients managed at home")
    client = signed_in_client(user)
    timed_get(client, PATH, 20)  # warm-up
    queries_overview = query_count(client, PATH)
    cpu = time.process_time()
    samples = timed_get(client, PATH, options["requests"])
    cpu_ms = (time.process_time() - cpu) * 1000 / len(samples)
    lists = {}
    for code in rules.LIST_CODES:
        path = f"{PATH}{code}/"
        timed_get(client, path, 3)
        count = query_count(client, path)
        lists[code] = {**{k: v for k, v in figures(timed_get(client, path, options["list_requests"])).items()
                          if k in ("p50_ms", "p95_ms")}, "queries": count}
    functions = {
        "worklist_counts": time_function(lambda: queries.worklist_counts(user), options["list_requests"]),
        **{f"worklist_page.{c}": time_function(lambda c=c: queries.worklist_page(user, c),
                                               options["list_requests"] // 2 or 1)
           for c in rules.LIST_CODES},
    }
    return {
        "benchmark": NAME, **about, **figures(samples), "queries": queries_overview, "requests": len(samples),
        "client_cpu_ms": round(cpu_ms, 3), "clinic": options["clinic"], "caseload": caseload, "counts": queries.worklist_counts(user),
        "lists": lists, "functions": functions,
        "peak_rss_mb": peak_rss_mb(), "loadavg_1m": loadavg(),
    }
