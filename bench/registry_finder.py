"""Registry benchmark: the public finder (bounding box + SQL haversine) and the coverage figures at size.

Run:  XINQIAO_ENV=test python -m bench.registry_finder [--points N] [--database-url URL]

Creates a throw-away database (SQLite file in a temp dir, or a fresh PostgreSQL database named
``xinqiao_bench_<pid>`` on the server of ``--database-url``), migrates it, bulk-creates N
registered institutions with one public service point each, scattered over Guangdong's townships
and coordinates (services, opening hours, 10% open 24 hours), and prints one JSON line:
``points``; ``finder_located_ms`` (location in Guangzhou, "counselling", median of 30);
``finder_urgent_open_ms`` (location + urgent + open now); ``finder_region_ms`` (a county);
``finder_rows_in_box`` (how many rows the bounding box keeps, of N); ``coverage_city_ms`` and
``coverage_province_ms`` (the whole report, median of 5); ``coverage_queries`` (for the city).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _median_ms(fn: Any, n: int) -> float:
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(samples), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=20000)
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
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)

    from xinqiao.core.models import InRegion, Organisation, Region, RegionLevel
    from xinqiao.registry import coverage, finder, rules
    from xinqiao.registry.models import Institution, OpeningHours, PointService, ServicePoint

    rng = random.Random(5)
    towns = list(Region.objects.filter(province_code="44", level=RegionLevel.TOWNSHIP).values_list("code", flat=True))
    kinds = ["general_hospital_clinic", "counselling_room", "counselling_agency", "community_health_centre",
             "psychiatric_hospital", "rehabilitation_site"]
    services = ["psychiatric_outpatient", "counselling", "psychology_outpatient", "child_adolescent", "elderly",
                "emergency"]
    n = args.points
    with transaction.atomic():
        orgs = []
        for i in range(n):
            code = towns[i % len(towns)]
            orgs.append(Organisation(name=f"基准机构{i}", org_type="counselling_agency", region_id=code,
                                     **InRegion.region_columns(code)))
        Organisation.objects.bulk_create(orgs, batch_size=2000)
        orgs = list(Organisation.objects.order_by("id"))
        insts = [Institution(organisation=o, kind=kinds[i % len(kinds)], registration_number=f"B{i:08d}",
                             region_id=o.region_id, **InRegion.region_columns(o.region_id))
                 for i, o in enumerate(orgs)]
        Institution.objects.bulk_create(insts, batch_size=2000)
        insts = list(Institution.objects.order_by("id"))
        points = [ServicePoint(institution=inst, code="main", name=inst.registration_number, region_id=inst.region_id,
                               latitude=round(rng.uniform(20.2, 25.5), 5), longitude=round(rng.uniform(109.7, 117.3), 5),
                               open_24h=rng.random() < 0.1, public=True, **InRegion.region_columns(inst.region_id))
                  for inst in insts]
        ServicePoint.objects.bulk_create(points, batch_size=2000)
        points = list(ServicePoint.objects.order_by("id"))
        PointService.objects.bulk_create([PointService(point=p, code=c) for p in points
                                          for c in rng.sample(services, 2)], batch_size=5000)
        OpeningHours.objects.bulk_create([OpeningHours(point=p, weekday=d, opens=8 * 60, closes=17 * 60)
                                          for p in points for d in range(1, 6)], batch_size=5000)
    here = (23.1291, 113.2644)
    moment = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    located = finder.Query(latitude=here[0], longitude=here[1], filters=["counselling"])
    urgent = finder.Query(latitude=here[0], longitude=here[1], urgent=True, open_now=True)
    box = rules.bounding_box(here[0], here[1], float(rules.public_settings()["finder_radius_km"]))
    in_box = ServicePoint.objects.filter(latitude__range=(box.min_lat, box.max_lat),
                                         longitude__range=(box.min_lon, box.max_lon)).count()
    with CaptureQueriesContext(connection) as ctx:
        coverage.coverage("4401")
    result = {
        "database": connection.vendor,
        "points": ServicePoint.objects.count(),
        "finder_located_ms": _median_ms(lambda: finder.search(located, now=moment), 30),
        "finder_urgent_open_ms": _median_ms(lambda: finder.search(urgent, now=moment), 30),
        "finder_region_ms": _median_ms(lambda: finder.search(finder.Query(region_code="440106")), 30),
        "finder_rows_in_box": in_box,
        "coverage_city_ms": _median_ms(lambda: coverage.coverage("4401"), 5),
        "coverage_province_ms": _median_ms(lambda: coverage.coverage("44"), 5),
        "coverage_queries": len(ctx),
    }
    print(json.dumps(result))
    connection.close()
    if pg_admin_url:
        import psycopg

        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{os.environ["DATABASE_URL"].rsplit("/", 1)[1]}"')


if __name__ == "__main__":
    main()
