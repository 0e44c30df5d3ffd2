"""Demo patients: a few hundred registered patients in the two demo townships, with histories.

Called by ``xinqiao demo`` (``core.demo.build_demo``) before the apps that need patients (referrals,
management groups). Built with the synthetic generator (``patients/synth.py``) — the same code as
``xinqiao synth`` and the benchmarks — restricted to the demo townships, their clinics
(``chc_a``/``chc_b``, where ``community_doctor_a``/``_b`` work), those doctors and the city's
psychiatric hospital. Histories end today, so the work lists are current whenever the demo is
built: some follow-ups due today or this week, some overdue, unstable patients, patients awaiting
a first visit, failed attempts, and lost, dead, moved-out and in-hospital patients; the partner
agencies (police …) see the subset at danger level ≥3 or with a 肇事肇祸 history.

Created once: a re-run finds the population (``submission_key`` prefix ``demo:``) and keeps it.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q

from xinqiao.core.models import User
from xinqiao.patients import synth
from xinqiao.patients.codes import OFF_REGISTER_STATUSES, PatientStatus
from xinqiao.patients.models import Patient

#: Patients per demo township.
PER_TOWNSHIP = 150
#: The demo population's ``submission_key`` prefix.
PREFIX = "demo:"
#: History length (years before today).
YEARS = 3
#: Patients per top-up, and how many top-ups at most (see ``extend_demo``).
TOP_UP = 40
TOP_UPS = 8


def extend_demo(rng: random.Random, result: Any) -> None:
    """Build the demo patients once; add a line about them to the demo's output."""
    towns = list(result.townships)
    if len(towns) < 2 or Patient.objects.filter(submission_key__startswith=PREFIX).exists():
        return
    clinics: dict[str, int] = {}
    doctors: dict[str, tuple[int, ...]] = {}
    for suffix, town in zip("ab", towns, strict=True):
        clinic = result.orgs.get(f"chc_{suffix}")
        doctor = User.objects.filter(username=f"community_doctor_{suffix}").first()
        if clinic is None or doctor is None:
            return
        clinics[town.code] = clinic.pk
        doctors[town.code] = (doctor.pk,)
    hospital = result.orgs.get("psych_hospital")
    seed = rng.randint(1, 10**6)
    size = PER_TOWNSHIP * len(towns)
    for step in range(TOP_UPS + 1):
        # The first build is the population; small top-ups (other seeds, same population) follow
        # until every list and status the demo should show has someone in each township.
        options = synth.SynthOptions(
            patients=size if step == 0 else TOP_UP, seed=seed + step, years=YEARS,
            townships=tuple(t.code for t in towns), clinics=clinics, doctors=doctors,
            hospital=hospital.pk if hospital is not None else None, key_prefix=PREFIX, workers=1, indexes="keep",
            start=0 if step == 0 else size + (step - 1) * TOP_UP,
        )
        synth.build(options, progress=lambda _message: None)
        if not missing(towns):
            break
    result.notes.append(summary())


def missing(towns: list[Any]) -> list[str]:
    """What the demo should show but does not yet, per township (one query)."""
    from django.utils import timezone

    today = timezone.localdate()
    managed = Q(status=PatientStatus.MANAGED)
    wanted = {
        "overdue": managed & Q(next_followup_due__lt=today),
        "due_week": managed & Q(next_followup_due__gte=today, next_followup_due__lte=today + timedelta(days=6)),
        "unstable": Q(last_classification=1, status=PatientStatus.MANAGED),
        "awaiting": managed & Q(awaiting_first_visit_since__isnull=False),
        "failed": managed & Q(failed_attempts__gte=1),
        "lost": Q(status=PatientStatus.LOST),
        "dead": Q(status=PatientStatus.DEAD),
        "moved": Q(status=PatientStatus.MOVED_OUT),
        "in_hospital": Q(status=PatientStatus.IN_HOSPITAL),
        "police": Q(danger_level__gte=3) | Q(incident_history=True),
    }
    rows = (Patient.objects.filter(submission_key__startswith=PREFIX).values("township_code")
            .annotate(**{k: Count("id", filter=q) for k, q in wanted.items()}))
    found = {r["township_code"]: r for r in rows}
    return [f"{t.code}:{k}" for t in towns for k in wanted if not found.get(t.code, {}).get(k)]


def summary() -> str:
    """One line describing the demo register (counts by list and status; one query)."""
    from django.utils import timezone

    today = timezone.localdate()
    managed = Q(status=PatientStatus.MANAGED)
    counts = Patient.objects.filter(submission_key__startswith=PREFIX).aggregate(
        total=Count("id"),
        on_register=Count("id", filter=~Q(status__in=OFF_REGISTER_STATUSES)),
        overdue=Count("id", filter=managed & Q(next_followup_due__lt=today)),
        due_today=Count("id", filter=managed & Q(next_followup_due=today)),
        unstable=Count("id", filter=Q(status__in=[PatientStatus.MANAGED, PatientStatus.IN_HOSPITAL],
                                      last_classification=1)),
        awaiting=Count("id", filter=managed & Q(awaiting_first_visit_since__isnull=False)),
        failed=Count("id", filter=managed & Q(failed_attempts__gte=1)),
        lost=Count("id", filter=Q(status=PatientStatus.LOST)),
        dead=Count("id", filter=Q(status=PatientStatus.DEAD)),
        moved=Count("id", filter=Q(status=PatientStatus.MOVED_OUT)),
        in_hospital=Count("id", filter=Q(status=PatientStatus.IN_HOSPITAL)),
        police=Count("id", filter=Q(danger_level__gte=3) | Q(incident_history=True)),
    )
    return ("Demo patients (community_doctor_a / community_doctor_b): {total} registered, {on_register} on the "
            "register; {overdue} overdue, {due_today} due today, {unstable} unstable, {awaiting} awaiting a first "
            "visit, {failed} with failed attempts; {lost} lost, {dead} dead, {moved} moved out, {in_hospital} in "
            "hospital; {police} visible to the police (danger ≥3 or 肇事肇祸).").format(**counts)
