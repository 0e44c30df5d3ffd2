"""Demo patients: a few hundred registered patients in the two demo townships, with histories.

Called by ``xinqiao demo`` (``core.demo.build_demo``) before the apps that need patients (referrals,
management groups). Built with the synthetic generator (``patients/synth.py``) — the same code as
``xinqiao synth`` and the benchmarks — restricted to the demo townships, their clinics
(``chc_a``/``chc_b``, where ``community_doctor_a``/``_b`` work), those doctors and the city's
psychiatric hospital. Histories end today, so the work lists are current whenever the demo is
built: some follow-ups due today or this week, some overdue, unstable patients, patients awaiting
a first visit, failed attempts, and lost, dead, moved-out and in-hospital patients; the partner
agencies (police …) see the subset at danger level ≥3 or with a 肇事肇祸 history.

Hand-overs between the two townships (accepted, declined) and suspected cases found in the
community (confirmed and registered, closed as not a case, open) come from the generator too, at a
higher transfer rate than a real register's so that a few hundred patients show a handful. What is
rare by nature at that size — a transfer still waiting for an answer, a suspected case reported or
referred in the last weeks — is then made through the real services (``request_transfer``,
``decline_transfer``, ``report_suspected_case``, ``refer_suspected_case``) where a township has
none, so both inboxes and the suspected-case list always have something to act on.

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
#: Hand-over requests per on-register patient-year in the demo (a register: ``synth.TRANSFER_PER_YEAR``).
TRANSFERS_PER_YEAR = 0.03


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
            start=0 if step == 0 else size + (step - 1) * TOP_UP, transfers_per_year=TRANSFERS_PER_YEAR,
            suspected_without_id=0.0,  # the demo's unidentified persons are emergency subjects only
        )
        synth.build(options, progress=lambda _message: None)
        if not missing(towns):
            break
    users = {town.code: User.objects.get(pk=doctors[town.code][0]) for town in towns}
    open_items(rng, towns, users, hospital.pk if hospital is not None else None)
    result.notes.append(summary())
    result.notes.append(ways_summary())


def open_items(rng: random.Random, towns: list[Any], users: dict[str, Any], hospital_id: int | None) -> None:
    """Through the real services, what a township still lacks: an incoming transfer waiting for an
    answer, a declined one, a suspected case just reported and one referred for diagnosis."""
    from django.utils import timezone

    from xinqiao.core.services import PersonInput
    from xinqiao.patients import services
    from xinqiao.patients.codes import SuspectedSource, SuspectedStatus, TransferStatus
    from xinqiao.patients.models import SuspectedCase, Transfer

    today = timezone.localdate()
    for town, other in ((towns[0], towns[1]), (towns[1], towns[0])):
        sender, receiver = users[other.code], users[town.code]
        for status in (TransferStatus.PENDING, TransferStatus.DECLINED):
            if Transfer.objects.filter(region_id=town.code, from_region_id=other.code, status=status).exists():
                continue
            busy = Transfer.objects.filter(status=TransferStatus.PENDING).values("patient_id")
            patient = (Patient.objects.filter(submission_key__startswith=PREFIX, region_id=other.code,
                                              status=PatientStatus.MANAGED).exclude(pk__in=busy)
                       .order_by("register_number").first())
            if patient is None:
                continue
            transfer = services.request_transfer(sender, patient, services.TransferInput(
                to_region_code=town.code, moved_on=today - timedelta(days=rng.randint(3, 20)),
                reason=rng.choice(synth.TRANSFER_REASONS),
                new_address=f"{town.name}{rng.choice(synth.STREETS)}{rng.randint(1, 300)}号",
                key=f"{PREFIX}transfer:{town.code}:{status}"))
            if status == TransferStatus.DECLINED:
                services.decline_transfer(receiver, transfer, rng.choice(synth.DECLINE_REASONS))
        doctor = users[town.code]
        cases = SuspectedCase.objects.filter(region_id=town.code)
        for stage in (SuspectedStatus.REPORTED, SuspectedStatus.REFERRED):
            if cases.filter(status=stage).exists():
                continue
            name = rng.choice(synth.SURNAMES) + rng.choice(synth.GIVEN) + rng.choice(synth.GIVEN)
            case = services.report_suspected_case(doctor, services.SuspectedCaseInput(
                person=PersonInput(name=name, id_type="resident_id", id_number=_unused_id_number(rng, town),
                                   region_code=town.code,
                                   address=f"{town.name}{rng.choice(synth.STREETS)}{rng.randint(1, 300)}号",
                                   sex=rng.choice("MF")),
                found_by=rng.choice(SuspectedSource.values), discovered_on=today - timedelta(days=rng.randint(2, 12)),
                reporter_name=f"{town.name}居委会", symptoms=(1, 10), description=rng.choice(synth.SUSPECTED_NOTICED),
                key=f"{PREFIX}suspected:{town.code}:{stage}"))
            if stage == SuspectedStatus.REFERRED and hospital_id is not None:
                services.refer_suspected_case(doctor, case, hospital_id, today)


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


def _unused_id_number(rng: random.Random, town: Any) -> str:
    """A valid resident ID number of the township's county that no person has yet."""
    from datetime import date

    from xinqiao.core import idcard
    from xinqiao.core.models import Person

    while True:
        birth = date(rng.randint(1960, 2000), rng.randint(1, 12), rng.randint(1, 28))
        number = idcard.generate_resident_id(town.county_code, birth, rng.randint(0, 999))
        if not Person.objects.filter(id_number_index=Person.id_index_for("resident_id", number)).exists():
            return number


def ways_summary() -> str:
    """One line on the demo's transfers and suspected cases (two queries)."""
    from xinqiao.patients.codes import SuspectedStatus, TransferStatus
    from xinqiao.patients.models import SuspectedCase, Transfer

    towns = Patient.objects.filter(submission_key__startswith=PREFIX).values("region_id")
    transfers = Transfer.objects.filter(region_id__in=towns).aggregate(
        **{s: Count("id", filter=Q(status=s)) for s in TransferStatus.values})
    cases = SuspectedCase.objects.filter(region_id__in=towns).aggregate(
        **{s: Count("id", filter=Q(status=s)) for s in SuspectedStatus.values})
    return ("Demo transfers between the townships: {accepted} accepted, {declined} declined, {pending} waiting for "
            "an answer; ".format(**transfers)
            + "suspected cases found in the community: {confirmed} confirmed and registered, {closed} closed as not "
              "a case, {reported} reported, {referred} referred for diagnosis.".format(**cases))
