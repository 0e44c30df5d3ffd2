"""Follow-up import benchmark: a spreadsheet of visits, failed attempts and deaths, end to end.

Run:  xinqiao bench followup-import --patients 500
      (or: XINQIAO_ENV=test python -m bench.followup_import_bench --patients 500)

Like ``bench/import_bench.py`` (whose throw-away database, user and patient rows it reuses): on the
configured database's server it creates and migrates a throw-away database, places one county
mental-health-centre user in 天河区 (440106), and registers N patients through the patient import
(outside the timing). Then it writes, deterministically for ``--seed``, about four follow-ups per
patient (随访服务记录表 rows: mostly visits with every item of the national form and one or two
drugs, some failed attempts — 随访失败 — with the method tried and the reason, a few 失访 and
deaths with their causes) as an .xlsx made by openpyxl. Timed: ``paperwork.services.import_spreadsheet``
on it, the call a page upload makes: read, parse and check every row with the form's own rules,
find each patient by blind index, run the national classification rules on each visit with the
previous one, plan every patient's work-list columns and status changes, then the all-or-nothing
commit (bulk inserts, patient columns, status history, referrals of current unstable visits, one
audit event) and, after commit, the notices (police, overdue, 失访 prompt; eager without Redis).
Finally it re-uploads the file (refused by its hash) and drops the database.

Prints one JSON line. Contract keys: ``rows``, ``rows_per_s`` (rows ÷ (validate + commit)),
``validate_s``, ``commit_s`` (to the end of COMMIT, the after-commit notices included), and
``peak_rss_mb``. Extras: ``patients``, ``created``, ``visits``, ``not_reached``, ``deaths``,
``status_changes``, ``file_mb``, ``wall_s``, ``reimport_same_file_status``, ``database``, ``seed``,
``loadavg_1m``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import time
from datetime import date, timedelta
from typing import Any

from bench.import_bench import COUNTY, _actor, _rows, _setup_django, _xlsx, log, throwaway_database

SYMPTOMS = (1, 2, 3, 4, 5, 10, 11)
DRUGS = ("利培酮", "奥氮平", "阿立哌唑", "喹硫平", "氯氮平", "某自购药")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patients", type=int, default=2000, help="patients on the register (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated rows (default 1)")


def _followup_rows(patients: list[dict[str, Any]], seed: int, today: date) -> list[dict[str, Any]]:
    """About four follow-ups per registered patient, after its registration and last visit, none in the future."""
    rng = random.Random(seed * 7_919)
    out: list[dict[str, Any]] = []
    for patient in patients:
        day = max(patient["registered_on"], patient.get("last_followup_date") or patient["registered_on"])
        for _n in range(rng.choice((3, 4, 4, 5))):
            day += timedelta(days=rng.randint(14, 60))
            if day > today:
                break
            roll = rng.random()
            base = {"id_number": patient["id_number"], "followup_date": day, "doctor_name": "李医生"}
            if roll < 0.12:
                out.append({**base, "outcome": "2", "method": rng.choice(("2", "3")),
                            "not_reached_reason": rng.choice(("电话无人接听", "家中无人", "外出打工未归")),
                            "loss_reason": "4" if rng.random() < 0.1 else None})
                if out[-1]["loss_reason"]:
                    break
                continue
            if roll < 0.13:
                out.append({**base, "outcome": "3", "death_date": day - timedelta(days=rng.randint(1, 10)),
                            "death_cause": rng.choice(("2", "4", "6"))})
                break
            danger = rng.choices((0, 1, 2, 3, 4), (70, 15, 9, 4, 2))[0]
            symptoms = sorted(rng.sample(SYMPTOMS, rng.choice((0, 0, 1, 2))))
            drugs = rng.sample(DRUGS, rng.choice((1, 1, 2)))
            row = {
                **base, "outcome": "1", "method": rng.choice(("1", "2", "2", "3")), "danger_level": str(danger),
                "symptoms": ",".join(map(str, symptoms)), "insight": rng.choice(("1", "1", "2")),
                "sleep": rng.choice(("1", "2")), "diet": "1", "self_care": rng.choice(("1", "2")), "housework": "2",
                "work": rng.choice(("2", "9")), "study": "2", "social": rng.choice(("1", "2")),
                "minor_trouble_count": rng.choices((0, 1), (95, 5))[0], "lock_status": "1",
                "hospital_status": "0", "lab_tests": "1", "adherence": rng.choice(("1", "1", "2")),
                "adverse_reaction": "1", "treatment_effect": rng.choice(("1", "2", "2", "3")), "referral": "1",
                "rehab_measures": "1,4",
            }
            for n, drug in enumerate(drugs, start=1):
                row.update({f"drug{n}_name": drug, f"drug{n}_times": str(rng.choice((1, 2))),
                            f"drug{n}_dose": str(rng.choice((2, 5, 10, 100)))})
            out.append(row)
    return out


def _audited_counts(batch: Any) -> dict[str, Any]:
    """The counts the batch's one audit event carries (created, skipped, status changes, …)."""
    from xinqiao.core.models import AuditEvent

    event = AuditEvent.objects.filter(object_type="paperwork.importbatch", object_id=str(batch.pk)).last()
    return dict(event.detail) if event is not None else {}


def run(patients: int = 2000, seed: int = 1) -> dict[str, Any]:
    if patients < 1:
        raise ValueError("--patients must be at least 1")
    _setup_django()
    from django.db import connection
    from django.utils import timezone, translation

    from xinqiao.core.models import Region, RegionLevel
    from xinqiao.paperwork.followup_import import COLUMNS
    from xinqiao.paperwork.patient_import import COLUMNS as PATIENT_COLUMNS
    from xinqiao.paperwork.services import import_spreadsheet

    loadavg = round(os.getloadavg()[0], 2)
    vendor = connection.vendor
    with throwaway_database("fuimport"):
        with translation.override("zh-hans"):
            townships = list(Region.objects.filter(parent_id=COUNTY, level=RegionLevel.TOWNSHIP)
                             .order_by("code").values_list("code", flat=True))
            actor = _actor(townships)
            log(f"registering {patients} patients (not timed)")
            register = _rows(patients, seed, townships, 0)
            batch = import_spreadsheet(actor, "patients", "register.xlsx", _xlsx(PATIENT_COLUMNS, register))
            if batch.status != "committed":
                raise RuntimeError(f"the register was not imported ({batch.status}): {batch.errors[:5]}")
            rows = _followup_rows(register, seed, timezone.localdate())
            content = _xlsx(COLUMNS, rows)
            log(f"importing {len(rows)} follow-ups ({len(content) / 1e6:.1f} MB)")
            started = time.perf_counter()
            batch = import_spreadsheet(actor, "followups", "followups.xlsx", content)
            wall = time.perf_counter() - started
            if batch.status != "committed":
                raise RuntimeError(f"the follow-ups were not imported ({batch.status}): {batch.errors[:5]}")
            validate_s, commit_s = batch.validate_ms / 1000, batch.commit_ms / 1000
            outcomes = [r["outcome"] for r in rows]
            result: dict[str, Any] = {
                "rows": batch.rows_total,
                "rows_per_s": round(batch.rows_total / max(validate_s + commit_s, 1e-9)),
                "validate_s": round(validate_s, 3), "commit_s": round(commit_s, 3), "peak_rss_mb": 0.0,
                "patients": patients, "created": batch.rows_created, "visits": outcomes.count("1"),
                "not_reached": outcomes.count("2"), "deaths": outcomes.count("3"),
                "status_changes": _audited_counts(batch).get("status_changes"),
                "file_mb": round(len(content) / 1e6, 2), "wall_s": round(wall, 3),
            }
            again = import_spreadsheet(actor, "followups", "followups-again.xlsx", content)
            result["reimport_same_file_status"] = again.status
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result.update({"database": vendor, "seed": seed, "loadavg_1m": loadavg})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--database-url", default="", help="run on this server instead of DATABASE_URL")
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    print(json.dumps(run(patients=args.patients, seed=args.seed)))


if __name__ == "__main__":
    main()
