"""Import benchmark: validated spreadsheet import of existing patients, end to end.

Run:  xinqiao bench import --patients 20000
      (or: XINQIAO_ENV=test python -m bench.import_bench --patients 20000)

On the configured database's server (``DATABASE_URL``: PostgreSQL in production, SQLite by
default) it creates a throw-away database (Django's test-database machinery, named
``xinqiao_bench_import_<pid>``; a temporary file for SQLite), migrates it, and places one
mental-health-centre user in 天河区 (440106) with a health centre in each of its townships. Then,
outside the timing, it writes N patient rows (deterministic for ``--seed``: identity, township,
diagnosis and ICD-10 code, danger level, follow-up dates and a filled 个人信息补充表 with the
national-system extras, 54 columns) as an .xlsx made by openpyxl and, with other people, as a
UTF-8 CSV. Timed: ``paperwork.services.import_spreadsheet`` on each file, the same call a page
upload makes: read the first sheet, parse and check every row (GB 11643 check digits, townships
in scope, codes, ICD-10 rules, the supplement's rules, duplicates in the file and against the
deployment by blind index), then the all-or-nothing commit (bulk inserts of persons with
encrypted identity, patients with register numbers, registration history and supplements, streamed
with COPY by a writer thread on PostgreSQL; one audit event). Finally it re-uploads the .xlsx (refused by its hash) and a copy with one cell
changed (every row found already registered: skipped), and drops the database.

Prints one JSON line. Contract keys: ``rows``, ``rows_per_s`` (rows ÷ (validate + commit) of the
.xlsx), ``validate_s`` (read + parse + every check), ``commit_s`` (inserts, audit, to the end of
COMMIT), ``peak_rss_mb``. Extras: ``format``, ``columns``, ``file_mb``, ``created``, ``wall_s``
(the whole call), ``client_cpu_us_per_row`` (CPU of this process) and ``server_cpu_us_per_row``
(CPU of its PostgreSQL backend, from /proc on the same host; ``null`` otherwise): on a shared
machine these say more than rows/s. Then ``csv_rows_per_s``, ``csv_validate_s``, ``csv_commit_s``,
``reimport_same_file_s`` / ``_status``, ``reimport_same_rows_s`` / ``_status``,
``reimport_created`` (must be 0), ``reimport_skipped``, ``database``, ``database_name``, ``seed``,
``loadavg_1m`` (load before the run), ``target_per_s`` (5000) and ``target_met``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
COUNTY = "440106"
TARGET_PER_S = 5000

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文海云飞"
STREETS = ("天河路", "体育西路", "林和中路", "黄埔大道", "中山大道", "五山路", "沙河路", "龙口西路")
DIAGNOSES = (("F20 精神分裂症", "F20.0", "", 0.62), ("F31 双相（情感）障碍", "F31.2", "", 0.14),
             ("F22 持久的妄想性障碍（偏执性精神病）", "F22.0", "", 0.07), ("F25 分裂情感性障碍", "F25.1", "", 0.05),
             ("F06 癫痫所致精神障碍", "F06.2", "G40.9", 0.06), ("F7x 精神发育迟滞伴发精神障碍", "F71.1", "F20.9", 0.06))
RELATIONS = ("父子", "母子", "父女", "母女", "配偶", "兄弟", "姐妹", "子女")


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the JSON line."""
    print(f"[import] {message}", file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patients", type=int, default=20000, help="rows per file (default 20000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated rows (default 1)")
    parser.add_argument("--skip-csv", action="store_true", help="time the .xlsx only")


# --- data ------------------------------------------------------------------------------------------


def _rows(n: int, seed: int, townships: list[str], offset: int) -> list[dict[str, Any]]:
    """``n`` realistic patient rows with unique, valid ID numbers (deterministic for the seed)."""
    from xinqiao.core import idcard

    rng = random.Random(seed * 1_000_003 + offset)
    seen: set[str] = set()
    today = date(2026, 1, 1)
    out: list[dict[str, Any]] = []
    weights = [d[3] for d in DIAGNOSES]
    while len(out) < n:
        birth = date(1940, 1, 1) + timedelta(days=rng.randint(0, 365 * 62))
        number = idcard.generate_resident_id(COUNTY, birth, rng.randint(0, 999))
        if number in seen:
            continue
        seen.add(number)
        diagnosis, icd, co, _w = rng.choices(DIAGNOSES, weights)[0]
        registered = today - timedelta(days=rng.randint(30, 3650))
        onset = registered - timedelta(days=rng.randint(30, 3000))
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        guardian = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        last = registered + timedelta(days=rng.randint(10, 300)) if rng.random() < 0.85 else None
        consent = "1" if rng.random() < 0.93 else "0"
        trouble = 1 if rng.random() < 0.03 else 0
        card = rng.random() < 0.35
        out.append({
            "name": name, "id_number": number, "phone": f"13{rng.randint(0, 9)}{rng.randint(10**7, 10**8 - 1)}",
            "address": f"广州市天河区{rng.choice(STREETS)}{rng.randint(1, 999)}号",
            "region_code": rng.choice(townships), "registered_on": registered, "diagnosis": diagnosis,
            "icd10_code": icd, "co_icd10_code": co, "diagnosed_on": registered - timedelta(days=rng.randint(1, 60)),
            "danger_level": str(rng.choices((0, 1, 2, 3, 4, 5), (70, 14, 9, 4, 2, 1))[0]),
            "last_followup_date": last, "last_classification": str(rng.choices((1, 2, 3), (8, 27, 65))[0]) if last else "",
            "guardian_name": guardian, "guardian_relation": rng.choice(RELATIONS),
            "guardian_address": "同患者住址" if rng.random() < 0.8 else f"广州市白云区{rng.choice(STREETS)}{rng.randint(1, 99)}号",
            "guardian_phone": f"13{rng.randint(0, 9)}{rng.randint(10**7, 10**8 - 1)}",
            "village_contact_name": rng.choice(SURNAMES) + rng.choice(GIVEN), "village_contact_phone": "020-87654321",
            "household": str(rng.choice((1, 1, 1, 2))), "employment": str(rng.choice((1, 3, 4, 4, 4, 6, 8, 9))),
            "consent": consent, "consent_signed_by": guardian, "consent_date": registered,
            "onset_date": onset, "past_symptoms": ",".join(str(s) for s in sorted(rng.sample(range(1, 13), rng.randint(1, 4)))),
            "past_lock": str(rng.choices((1, 2, 3), (90, 2, 8))[0]), "outpatient_history": str(rng.choice((1, 2, 3))),
            "first_antipsychotic_date": onset + timedelta(days=rng.randint(0, 200)),
            "admissions": str(rng.choices((0, 1, 2, 3, 5), (40, 30, 15, 10, 5))[0]),
            "latest_treatment_effect": str(rng.choice((1, 2, 2, 3, 4))),
            "minor_trouble_count": str(rng.choices((0, 1, 2), (90, 8, 2))[0]), "trouble_count": str(trouble),
            "disaster_count": "0", "other_harm_count": "0", "self_harm_count": str(rng.choices((0, 1), (97, 3))[0]),
            "suicide_attempt_count": str(rng.choices((0, 1), (98, 2))[0]), "economic_status": str(rng.choice((1, 2, 2, 2))),
            "specialist_opinion": "规律服药，定期复诊" if rng.random() < 0.3 else "",
            "poverty_alleviation": "是" if rng.random() < 0.12 else "否", "guardianship_subsidy": "是" if rng.random() < 0.4 else "否",
            "disability_card": "是" if card else "否", "disability_grade": str(rng.choice((1, 2, 3, 4))) if card else "",
            "care_group_service": "是" if rng.random() < 0.5 else "否", "family_doctor_contract": "是" if rng.random() < 0.6 else "否",
            "community_rehab": "是" if rng.random() < 0.55 else "否", "filled_on": registered,
        })
    return out


def _xlsx(columns: Any, rows: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    from xinqiao.paperwork.workbooks import _header_text

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    ws.append([_header_text(c) for c in columns])
    keys = [c.key for c in columns]
    for row in rows:
        ws.append([row.get(k, "") for k in keys])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _csv(columns: Any, rows: list[dict[str, Any]]) -> bytes:
    import csv

    from xinqiao.paperwork.workbooks import _header_text

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_header_text(c) for c in columns])
    keys = [c.key for c in columns]
    for row in rows:
        writer.writerow([v.isoformat() if isinstance(v, date) else v for v in (row.get(k, "") for k in keys)])
    return buffer.getvalue().encode("utf-8-sig")


# --- the run -------------------------------------------------------------------------------------------


def _setup_django() -> None:
    os.environ.setdefault("XINQIAO_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinqiao.settings")
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


@contextmanager
def throwaway_database(label: str) -> Iterator[str]:
    """A migrated database for one run on the configured server (``xinqiao_bench_<label>_<pid>``; a
    temporary SQLite file elsewhere), dropped afterwards; yields its name."""
    from django.db import connection

    settings_dict = connection.settings_dict
    vendor = connection.vendor
    tmp = tempfile.mkdtemp(prefix=f"xinqiao-bench-{label}-")
    settings_dict.setdefault("TEST", {})
    settings_dict["TEST"] = {**settings_dict["TEST"], "NAME": f"{tmp}/bench.sqlite3" if vendor == "sqlite"
                             else f"xinqiao_bench_{label}_{os.getpid()}"}
    old_name = settings_dict["NAME"]
    log(f"creating and migrating a throw-away {vendor} database")
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield test_name
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
        settings_dict["NAME"] = old_name


def _actor(townships: list[str]) -> Any:
    from django.contrib.auth.models import Group

    from xinqiao.core.models import Organisation, OrgType, Region, User
    from xinqiao.core.roles import sync_roles

    sync_roles()
    for code in townships:
        Organisation.objects.create(name=f"{code}社区卫生服务中心", org_type=OrgType.COMMUNITY_HEALTH_CENTRE,
                                    region=Region.objects.get(code=code))
    user = User.objects.create(username="bench_import", region_id=COUNTY)
    user.groups.add(Group.objects.get(name="mhc_staff"))
    return User.objects.get(pk=user.pk)


def _server_cpu_s() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (same host only, from /proc)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(actor: Any, name: str, content: bytes) -> tuple[Any, float]:
    """Import one file; the batch gets ``cpu_s`` (this process) and ``server_cpu_s`` (its backend)."""
    from django.utils import translation

    from xinqiao.paperwork.services import import_spreadsheet

    with translation.override("zh-hans"):
        server = _server_cpu_s()
        started, cpu = time.perf_counter(), time.process_time()
        batch = import_spreadsheet(actor, "patients", name, content)
        batch.cpu_s = time.process_time() - cpu  # type: ignore[attr-defined]
        wall = time.perf_counter() - started
        after = _server_cpu_s()
        batch.server_cpu_s = None if server is None or after is None else after - server  # type: ignore[attr-defined]
        return batch, wall


def run(patients: int = 20000, seed: int = 1, skip_csv: bool = False) -> dict[str, Any]:
    if patients < 1:
        raise ValueError("--patients must be at least 1")
    _setup_django()
    from django.db import connection

    from xinqiao.core.models import Region, RegionLevel
    from xinqiao.paperwork.patient_import import COLUMNS

    loadavg = round(os.getloadavg()[0], 2)
    vendor = connection.vendor
    with throwaway_database("import") as test_name:
        townships = list(Region.objects.filter(parent_id=COUNTY, level=RegionLevel.TOWNSHIP)
                         .order_by("code").values_list("code", flat=True))
        actor = _actor(townships)
        log(f"writing {patients} rows ({len(COLUMNS)} columns)")
        rows = _rows(patients, seed, townships, 0)
        xlsx = _xlsx(COLUMNS, rows)
        log(f"importing the .xlsx ({len(xlsx) / 1e6:.1f} MB)")
        batch, wall = _timed(actor, "bench.xlsx", xlsx)
        if batch.status != "committed":
            raise RuntimeError(f"the generated file was not imported ({batch.status}): {batch.errors[:5]}")
        validate_s, commit_s = batch.validate_ms / 1000, batch.commit_ms / 1000
        result: dict[str, Any] = {
            "rows": batch.rows_total,
            "rows_per_s": round(batch.rows_total / max(validate_s + commit_s, 1e-9)),
            "validate_s": round(validate_s, 3),
            "commit_s": round(commit_s, 3),
            "peak_rss_mb": 0.0,
            "format": "xlsx", "columns": len(COLUMNS), "file_mb": round(len(xlsx) / 1e6, 2),
            "created": batch.rows_created, "wall_s": round(wall, 3),
            "client_cpu_us_per_row": round(batch.cpu_s * 1e6 / batch.rows_total),
            "server_cpu_us_per_row": (round(batch.server_cpu_s * 1e6 / batch.rows_total)
                                      if batch.server_cpu_s is not None else None),
        }
        if not skip_csv:
            csv_rows = _rows(patients, seed, townships, 1)
            content = _csv(COLUMNS, csv_rows)
            log(f"importing the CSV ({len(content) / 1e6:.1f} MB) into a database of {patients} patients")
            csv_batch, _wall = _timed(actor, "bench.csv", content)
            if csv_batch.status != "committed":
                raise RuntimeError(f"the generated CSV was not imported ({csv_batch.status}): {csv_batch.errors[:5]}")
            csv_s = (csv_batch.validate_ms + csv_batch.commit_ms) / 1000
            result.update({"csv_rows_per_s": round(csv_batch.rows_total / max(csv_s, 1e-9)),
                           "csv_validate_s": round(csv_batch.validate_ms / 1000, 3),
                           "csv_commit_s": round(csv_batch.commit_ms / 1000, 3)})
        log("re-importing the same file, then the same rows in a new file")
        again, again_s = _timed(actor, "bench.xlsx", xlsx)
        rows[0]["specialist_opinion"] = "再次导入"
        same_rows, same_rows_s = _timed(actor, "bench-copy.xlsx", _xlsx(COLUMNS, rows))
        result.update({
            "reimport_same_file_s": round(again_s, 3), "reimport_same_file_status": again.status,
            "reimport_same_rows_s": round(same_rows_s, 3), "reimport_same_rows_status": same_rows.status,
            "reimport_created": again.rows_created + same_rows.rows_created,
            "reimport_skipped": same_rows.rows_skipped,
        })
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result.update({"database": vendor, "database_name": test_name if vendor != "sqlite" else "(temporary file)",
                   "seed": seed, "loadavg_1m": loadavg, "target_per_s": TARGET_PER_S,
                   "target_met": result["rows_per_s"] >= TARGET_PER_S})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--database-url", default="", help="run on this server instead of DATABASE_URL")
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    print(json.dumps(run(patients=args.patients, seed=args.seed, skip_csv=args.skip_csv)))


if __name__ == "__main__":
    main()
