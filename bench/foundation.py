"""Foundation benchmark: region load time, scoped look-ups and field-encryption throughput.

Run:  XINQIAO_ENV=test python -m bench.foundation [--persons N] [--database-url URL]

Creates a throw-away database (SQLite file in a temp dir, or a fresh PostgreSQL database named
``xinqiao_bench_<pid>`` on the server of ``--database-url``), migrates it, and prints one JSON line:
``regions`` (rows), ``region_load_s`` (the data-file load alone, re-run on the migrated DB),
``persons``, ``insert_persons_per_s`` (ORM save with encryption + blind index), ``scoped_list_ms``
(restrict() + first page of 50 for a township user, median of 20), ``rollup_ms`` (persons per
county for a city, one GROUP BY), ``blind_index_lookup_ms`` (median of 50), ``encrypt_per_s`` and
``decrypt_per_s`` (AES-GCM of an 18-character value), ``peak_rss_mb``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _median_ms(fn, n: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(samples), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="xinqiao-bench-")
    pg_admin_url = ""
    if args.database_url.startswith("postgres"):
        import psycopg

        pg_admin_url = args.database_url.rsplit("/", 1)[0] + "/postgres"
        db = f"xinqiao_bench_{os.getpid()}"
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
            conn.execute(f'CREATE DATABASE "{db}"')
        os.environ["DATABASE_URL"] = args.database_url.rsplit("/", 1)[0] + f"/{db}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("XINQIAO_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinqiao.settings")
    sys.path.insert(0, str(ROOT / "src"))

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    call_command("migrate", verbosity=0)

    import random

    from xinqiao.core import crypto
    from xinqiao.core.demo import DEMO_CITY, demo_townships, synth_person
    from xinqiao.core.models import Person, Region, User
    from xinqiao.core.regions_loader import load_regions
    from xinqiao.core.roles import sync_roles

    t = time.perf_counter()
    regions = load_regions()
    region_load_s = time.perf_counter() - t

    towns = demo_townships()
    rng = random.Random(1)
    t = time.perf_counter()
    batch = [synth_person(rng, towns[i % 2]) for i in range(args.persons)]
    for p in batch:
        p.save()
    insert_s = time.perf_counter() - t

    sync_roles()
    from django.contrib.auth.models import Group

    doctor = User.objects.create(username="bench_doctor", region=towns[0])
    doctor.groups.add(Group.objects.get(name="community_doctor"))
    doctor = User.objects.get(pk=doctor.pk)
    scoped_list_ms = _median_ms(lambda: list(Person.objects.restrict(doctor).order_by("-id")[:50]), 20)
    rollup_ms = _median_ms(lambda: list(Person.objects.filter(city_code=DEMO_CITY).values("county_code")
                                        .annotate(n=Count("id"))), 20)
    sample = batch[len(batch) // 2]
    index = Person.id_index_for(sample.id_type, sample.id_number)
    lookup_ms = _median_ms(lambda: list(Person.objects.filter(id_number_index=index)), 50)

    n = 20000
    t = time.perf_counter()
    tokens = [crypto.encrypt("440106199001011234", "core.person.id_number") for _ in range(n)]
    encrypt_per_s = n / (time.perf_counter() - t)
    t = time.perf_counter()
    for tok in tokens:
        crypto.decrypt(tok, "core.person.id_number")
    decrypt_per_s = n / (time.perf_counter() - t)

    result = {
        "database": connection.vendor,
        "regions": regions,
        "region_load_s": round(region_load_s, 2),
        "regions_in_db": Region.objects.count(),
        "persons": Person.objects.count(),
        "insert_persons_per_s": round(args.persons / insert_s),
        "scoped_list_ms": scoped_list_ms,
        "rollup_ms": rollup_ms,
        "blind_index_lookup_ms": lookup_ms,
        "encrypt_per_s": round(encrypt_per_s),
        "decrypt_per_s": round(decrypt_per_s),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(result))
    connection.close()
    if pg_admin_url:
        import psycopg

        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{os.environ["DATABASE_URL"].rsplit("/", 1)[1]}"')


if __name__ == "__main__":
    main()
