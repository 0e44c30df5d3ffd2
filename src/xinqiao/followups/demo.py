"""Demo follow-up data beyond the histories: this year's annual health checks (健康体检).

The follow-up histories of the demo patients (visits, failed attempts, admissions and discharges,
medication, joint visits) come with the patients themselves (``patients/demo.py`` through the
synthetic generator, ``followups/synth.py``). Here the demo adds what the generator leaves out: the
annual health check (DOMAIN.md §3, with consent) for most patients still managed at home, done by
their responsible doctor at their clinic in the last year. Called by ``xinqiao demo`` after
``patients``; created once (a re-run keeps them).
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from xinqiao.core.models.region import InRegion
from xinqiao.followups.models import HealthCheck
from xinqiao.patients.codes import PatientStatus
from xinqiao.patients.models import Patient

#: The demo population (``patients/demo.py``).
PREFIX = "demo:"
#: Share of managed demo patients with a health check in the last year.
SHARE = 0.7


def extend_demo(rng: random.Random, result: Any) -> None:
    """Annual health checks for the demo patients managed at home, once."""
    patients = list(Patient.objects.filter(submission_key__startswith=PREFIX, status=PatientStatus.MANAGED,
                                           last_followup_date__isnull=False).order_by("id"))
    if not patients or HealthCheck.objects.filter(patient__in=patients[:50]).exists():
        return
    today = timezone.localdate()
    checks = []
    for patient in patients:
        if rng.random() >= SHARE:
            continue
        consent = rng.random() < 0.92
        when = max(patient.registered_on, today - timedelta(days=rng.randint(1, 360)))
        check = HealthCheck(
            patient=patient, region_id=patient.region_id, check_date=when, consent=consent,
            done_by_id=patient.responsible_doctor_id, organisation_id=patient.managing_organisation_id,
            **InRegion.region_columns(patient.region_id),
        )
        if consent:
            height = Decimal(rng.randint(150, 182))
            check.general_exam = rng.choice(("一般情况可，心肺腹未见明显异常", "体型偏胖，余未见明显异常",
                                             "神清，查体合作，未见明显异常"))
            check.systolic_bp = rng.randint(100, 150)
            check.diastolic_bp = rng.randint(60, 95)
            check.height_cm = height
            check.weight_kg = (height * Decimal(rng.randint(19, 30)) * height / Decimal(10000)).quantize(Decimal("0.1"))
            check.blood_count = rng.choice(("血常规未见异常", "白细胞计数略低（3.6×10⁹/L）"))
            check.alt = Decimal(rng.randint(80, 600)) / Decimal(10)
            check.glucose = Decimal(rng.randint(42, 78)) / Decimal(10)
            check.ecg = 1 if rng.random() < 0.88 else 2
            check.ecg_text = "窦性心律，正常心电图" if check.ecg == 1 else "窦性心动过速"
        else:
            check.note = "患者及监护人拒绝本年度健康体检"
        checks.append(check)
    HealthCheck.objects.bulk_create(checks, batch_size=500)
    result.notes.append(f"Demo health checks: {len(checks)} in the last year "
                        f"({sum(1 for c in checks if not c.consent)} declined).")
