"""Synthetic suspected cases (社区发现) and transfers inside the deployment (迁居), ``patients/synth.py``.

Checked against the real rules: every suspected case's history is a path the services allow and ends
in its status; every confirmed one registered a community-discovered patient (the same person,
decided on the diagnosis date); every transfer is what ``request_transfer`` / ``accept_transfer`` /
``decline_transfer`` leave — an accepted patient managed by the receiving township since, with the
one history row ``accept_transfer`` writes and every row in the new township; 在册 unchanged by
moves inside the deployment. The open rows (pending transfers, reported and referred cases) are then
answered by the real services, which must accept them.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinqiao.core import idcard
from xinqiao.core.models import Organisation, Person
from xinqiao.followups.models import FollowUp
from xinqiao.patients import rules as patient_rules
from xinqiao.patients import services, synth
from xinqiao.patients.codes import (
    OFF_REGISTER_STATUSES,
    PatientStatus,
    RegistrationSource,
    SuspectedStatus,
    TransferStatus,
)
from xinqiao.patients.models import (
    CaseReport,
    Patient,
    PersonalSupplement,
    StatusChange,
    SuspectedCase,
    SuspectedCaseEvent,
    Transfer,
)

TODAY = date(2026, 3, 16)
COUNTY = "440106"  # 天河区: 21 townships of one county
PREFIX = "synth:41:"

#: The steps the services take (report → refer → confirm / close; confirm or close straight from reported).
CASE_STEPS = {
    ("", SuspectedStatus.REPORTED), (SuspectedStatus.REPORTED, SuspectedStatus.REFERRED),
    (SuspectedStatus.REPORTED, SuspectedStatus.CONFIRMED), (SuspectedStatus.REFERRED, SuspectedStatus.CONFIRMED),
    (SuspectedStatus.REPORTED, SuspectedStatus.CLOSED), (SuspectedStatus.REFERRED, SuspectedStatus.CLOSED),
}


def _build(n: int = 300, seed: int = 41, **extra: Any) -> synth.Report:
    options = synth.SynthOptions(patients=n, seed=seed, years=3, region=COUNTY, today=TODAY, workers=1, **extra)
    return synth.build(options, progress=lambda _m: None)


def _local_day(moment: Any) -> date:
    return timezone.localtime(moment).date()


# --- Suspected cases ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_suspected_cases_follow_the_services_and_confirmed_ones_registered_community_patients() -> None:
    _build(400)
    patients = {p.pk: p for p in Patient.objects.filter(submission_key__startswith=PREFIX)}
    cases = list(SuspectedCase.objects.filter(submission_key__startswith=PREFIX).select_related("referred_to"))
    events: dict[int, list[SuspectedCaseEvent]] = defaultdict(list)
    for event in SuspectedCaseEvent.objects.filter(case__in=[c.pk for c in cases]).order_by("at", "id"):
        events[event.case_id].append(event)
    statuses: dict[str, int] = defaultdict(int)
    confirmed_patients = []
    for case in cases:
        steps = events[case.pk]
        statuses[case.status] += 1
        # A path the services allow, in date order, ending in the case's status.
        assert (steps[0].from_status, steps[0].to_status) == ("", SuspectedStatus.REPORTED)
        for before, after in itertools.pairwise(steps):
            assert after.from_status == before.to_status and after.on >= before.on
        assert all((e.from_status, e.to_status) in CASE_STEPS for e in steps)
        assert steps[-1].to_status == case.status and steps[0].on == case.discovered_on <= TODAY
        referred = [e for e in steps if e.to_status == SuspectedStatus.REFERRED]
        assert (case.referred_on, case.referred_to is not None) == (
            (referred[0].on, True) if referred else (None, False))
        if referred:
            assert case.referred_to.org_type in services.HOSPITAL_TYPES
        assert case.symptoms and all(1 <= s <= 12 for s in case.symptoms) and case.description
        if case.status == SuspectedStatus.CONFIRMED:
            # confirm_suspected_case: registers this very person through community discovery;
            # decided on the diagnosis date, registered (the confirmation entered) on or after it.
            patient = patients[case.patient_id]
            confirmed_patients.append(patient.pk)
            assert patient.source == RegistrationSource.COMMUNITY and patient.person_id == case.person_id
            assert case.decided_on == patient.diagnosed_on == steps[-1].on <= patient.registered_on
            assert (patient.registered_on - case.decided_on).days <= 20
            assert case.region_id == patient.region_id
        elif case.status == SuspectedStatus.CLOSED:
            assert case.patient_id is None and len(case.closing_reason) >= 2
            assert case.decided_on == steps[-1].on <= TODAY and steps[-1].note == case.closing_reason
        else:  # open: reported, or referred and waiting for the diagnosis
            assert case.patient_id is None and case.decided_on is None and not case.closing_reason
    # Every community-discovered patient came through exactly one suspected case, and only they did.
    community = {pk for pk, p in patients.items() if p.source == RegistrationSource.COMMUNITY}
    assert sorted(confirmed_patients) == sorted(community)
    # ... and has the case report confirm_suspected_case opens (entered since, or a draft still).
    carded = set(CaseReport.objects.filter(patient_id__in=community).values_list("patient_id", flat=True))
    assert carded == community
    assert statuses[SuspectedStatus.CLOSED] and statuses[SuspectedStatus.CONFIRMED]
    # Of the cases decided inside the window, about SUSPECTED_CONFIRMED were confirmed.
    window = date(TODAY.year - 3, TODAY.month, TODAY.day)
    decided = [c for c in cases if c.decided_on and c.discovered_on >= window]
    share = sum(c.status == SuspectedStatus.CONFIRMED for c in decided) / len(decided)
    assert abs(share - synth.SUSPECTED_CONFIRMED) < 0.15, share


@pytest.mark.django_db
def test_suspected_persons_who_are_not_patients_have_valid_unique_numbers() -> None:
    _build(400)
    others = list(Person.objects.filter(id__in=SuspectedCase.objects.filter(
        submission_key__startswith=PREFIX, patient__isnull=True).values("person_id")))
    assert others and all(not hasattr(p, "patient") or p.patient is None for p in others)
    numbers = [p.id_number for p in others if p.id_number]
    assert 0 < len(numbers) < len(others)  # some were reported before their ID number was known
    for person in others:
        if person.id_number:
            check = idcard.validate_resident_id(person.id_number)
            assert check.valid and check.birth_date == person.birth_date
            assert person.id_number_index == Person.id_index_for("resident_id", person.id_number)
        else:
            assert person.id_number_index == "" and person.birth_date is None
        assert person.name and person.address
    patient_numbers = {p.person.id_number for p in Patient.objects.filter(
        submission_key__startswith=PREFIX).select_related("person")}
    assert len(set(numbers)) == len(numbers) and not set(numbers) & patient_numbers


# --- Transfers ------------------------------------------------------------------------------------------

def _region_rows(patient: Patient) -> list[Any]:
    """Every row that carries a region and points at the patient (what ``move_patient_rows`` moves)."""
    return [*StatusChange.objects.filter(patient=patient), *FollowUp.objects.filter(patient=patient),
            *CaseReport.objects.filter(patient=patient), *PersonalSupplement.objects.filter(patient=patient),
            *SuspectedCase.objects.filter(patient=patient)]


@pytest.mark.django_db
def test_transfers_are_what_the_services_leave() -> None:
    _build(300, transfers_per_year=0.08)
    transfers = list(Transfer.objects.filter(submission_key__startswith=PREFIX).select_related("patient__person"))
    by_status = defaultdict(list)
    for t in transfers:
        by_status[t.status].append(t)
    assert by_status[TransferStatus.ACCEPTED] and by_status[TransferStatus.DECLINED]
    limit = patient_rules.time_limits()["first_visit_days_after_notice"]
    clinics = {o.pk: o for o in Organisation.objects.filter(org_type__in=services.CLINIC_TYPES)}
    for t in transfers:
        patient = t.patient
        assert t.region_id != t.from_region_id
        assert (t.from_province_code, t.from_city_code, t.from_county_code, t.from_township_code) == tuple(
            Transfer.region_columns(t.from_region_id)[k]
            for k in ("province_code", "city_code", "county_code", "township_code"))
        assert clinics[t.from_organisation_id].region_id == t.from_region_id
        requested = _local_day(t.requested_at)
        assert patient.registered_on <= t.moved_on <= requested <= TODAY and t.reason and t.new_address
        linked = list(StatusChange.objects.filter(transfer=t))
        if t.status == TransferStatus.ACCEPTED:
            accepted = _local_day(t.decided_at)
            assert requested <= accepted <= TODAY and t.decided_by_id and not t.decline_reason
            # The patient is the receiving township's: clinic, every row, the person.
            assert patient.region_id == t.region_id == patient.person.region_id
            assert patient.managing_organisation_id == t.to_organisation_id
            assert clinics[t.to_organisation_id].region_id == t.region_id
            assert patient.person.address == t.new_address
            assert all(row.region_id == t.region_id for row in _region_rows(patient))
            # The one history row accept_transfer writes: managed → managed on the acceptance.
            assert [(c.from_status, c.to_status, c.changed_on) for c in linked] == [
                (PatientStatus.MANAGED, PatientStatus.MANAGED, accepted)]
            # Attempts before were the sending clinic's; the new clinic's first visit came on time.
            attempts = list(FollowUp.objects.filter(patient=patient).order_by("followup_date", "id"))
            assert all(f.organisation_id == t.from_organisation_id for f in attempts if f.followup_date < accepted)
            after = [f for f in attempts if f.followup_date >= accepted]
            assert after and after[0].outcome == "visited"
            assert after[0].organisation_id == t.to_organisation_id
            assert after[0].followup_date <= accepted + timedelta(days=limit)
        else:
            assert linked == [] and patient.region_id == t.from_region_id  # the patient stayed
            assert patient.managing_organisation_id == t.from_organisation_id
            if t.status == TransferStatus.DECLINED:
                assert len(t.decline_reason) >= 2 and requested <= _local_day(t.decided_at) <= TODAY
            else:
                assert t.decided_at is None and not t.decline_reason
                assert (TODAY - requested).days < synth.TRANSFER_ANSWER_DAYS
                assert patient_rules.on_register(patient.status) and patient.status != PatientStatus.DEREGISTERED
    # At most one transfer per patient (and so at most one pending).
    assert len({t.patient_id for t in transfers}) == len(transfers)


@pytest.mark.django_db
def test_moves_inside_the_deployment_keep_the_register() -> None:
    """在册 = ever registered − dead − moved out, over the deployment and summed over townships; a
    transfer inside the deployment is never a move out."""
    _build(300, transfers_per_year=0.08)
    qs = Patient.objects.filter(submission_key__startswith=PREFIX)
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for change in StatusChange.objects.filter(patient__in=qs).order_by("changed_on", "id"):
        changes[change.patient_id].append(change)
    ever = sum(1 for steps in changes.values() if steps[0].from_status == "")
    final = {pk: steps[-1].to_status for pk, steps in changes.items()}
    off = sum(1 for status in final.values() if status in OFF_REGISTER_STATUSES)
    assert ever == qs.count() == 300
    assert services.registered_count(qs) == ever - off
    per_town = sum(services.registered_count(qs.filter(region_id=code))
                   for code in set(qs.values_list("region_id", flat=True)))
    assert per_town == ever - off
    moved = StatusChange.objects.filter(patient__in=qs, transfer__isnull=False)
    assert moved.exists() and not moved.exclude(to_status=PatientStatus.MANAGED).exists()


@pytest.mark.django_db
def test_open_rows_are_answered_by_the_real_services(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.lookup import bench_user

    monkeypatch.setattr(services, "_today", lambda: TODAY)
    _build(400, transfers_per_year=1.0)  # about 8 pending
    centre = bench_user("synth_centre", "mhc_staff", COUNTY)  # answers for every township of the county
    pending = list(Transfer.objects.filter(submission_key__startswith=PREFIX, status=TransferStatus.PENDING))
    assert len(pending) >= 2
    accepted = services.accept_transfer(centre, pending[0])
    patient = Patient.objects.get(pk=accepted.patient_id)
    assert patient.region_id == accepted.region_id and patient.status == PatientStatus.MANAGED
    assert all(row.region_id == accepted.region_id for row in _region_rows(patient))
    services.decline_transfer(centre, pending[1], "查无此人")
    cases = SuspectedCase.objects.filter(submission_key__startswith=PREFIX)
    reported = cases.filter(status=SuspectedStatus.REPORTED).first()
    referred = cases.filter(status=SuspectedStatus.REFERRED).first()
    assert reported is not None and referred is not None
    hospital = referred.referred_to_id
    services.refer_suspected_case(centre, reported, hospital, TODAY)
    services.close_suspected_case(centre, reported, "诊断：焦虑障碍", TODAY)
    diagnosis = services.DiagnosisInput("F20", "F20.0", "", hospital, TODAY)
    registered = services.confirm_suspected_case(centre, referred, diagnosis)
    assert registered.source == RegistrationSource.COMMUNITY and registered.person_id == referred.person_id


# --- Determinism and removal ------------------------------------------------------------------------------

def _ways_snapshot(prefix: str) -> list[tuple[Any, ...]]:
    cases = [(c.submission_key, c.person.name, c.status, c.discovered_on, c.referred_on, c.decided_on,
              c.closing_reason, tuple(c.symptoms), c.found_by)
             for c in SuspectedCase.objects.filter(submission_key__startswith=prefix).select_related("person")]
    transfers = [(t.submission_key, t.patient.submission_key, t.status, t.from_region_id, t.region_id, t.moved_on,
                  t.reason, t.new_address, t.requested_at, t.decided_at)
                 for t in Transfer.objects.filter(submission_key__startswith=prefix).select_related("patient")]
    return sorted(cases, key=repr) + sorted(transfers, key=repr)


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_cases_and_transfers_and_clearing_removes_them() -> None:
    _build(120, seed=43, transfers_per_year=0.1)
    first = _ways_snapshot("synth:43:")
    assert first
    assert synth.clear_population("synth:43:") == 120
    assert not SuspectedCase.objects.exists() and not SuspectedCaseEvent.objects.exists()
    assert not Transfer.objects.exists() and not Person.objects.exists()
    _build(120, seed=43, transfers_per_year=0.1, batch=500)
    assert _ways_snapshot("synth:43:") == first


# --- Transfers as a property, without the database ------------------------------------------------------

def _town(code: str, clinic: int, doctor: int) -> synth.Town:
    return synth.Town(code=code, name=f"街道{code[-3:]}", county=code[:6], city=code[:4], province=code[:2],
                      place=f"广东省广州市街道{code[-3:]}", clinic_id=clinic, doctor_ids=(doctor,), hospital_id=9,
                      hospital_name="广州市精神专科医院")


def _plan(seed: int, rate: float) -> synth.Plan:
    from xinqiao.followups import synth as followup_synth

    tables = {key: model._meta.db_table for key, model in (
        ("person", Person), ("patient", Patient), ("status", StatusChange), ("case", CaseReport),
        ("supplement", PersonalSupplement), ("transfer", Transfer), ("suspected", SuspectedCase),
        ("suspected_event", SuspectedCaseEvent))}
    builder = followup_synth.HistoryBuilder(seed=seed, today=TODAY, years=3, now_text="")
    builder.configure(drugs=[(1, "利培酮", "antipsychotic", False)],
                      suffix={"followup": "", "medication": "", "participant": "", "discharge": ""},
                      table_names={"followup": FollowUp._meta.db_table, "medication": "m", "participant": "p",
                                   "discharge": "d"})
    towns = [_town("440106001", 11, 21), _town("440106002", 12, 22), _town("440111002", 13, 23)]
    return synth.Plan(
        options=synth.SynthOptions(patients=80, seed=seed, today=TODAY, transfers_per_year=rate), today=TODAY,
        towns=towns, town_cum=[1.0, 2.0, 3.0], person_base=1, patient_base=1, followup_base=1,
        followup_block=builder.ids_per_patient() * synth.CHUNK, history=builder, suffix=dict.fromkeys(tables, ""),
        table_names=tables, other_person_base=1001, suspected_base=1, transfer_base=1)


def _parse(lines: list[str], columns: tuple[str, ...]) -> list[dict[str, str]]:
    return [dict(zip(columns, line.split("\t"), strict=True)) for line in lines]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**9))
def test_every_transfer_keeps_the_history_a_valid_path(seed: int) -> None:
    """Whatever the draw, at a high transfer rate: each patient's status rows form a path the rules
    allow (the acceptance row managed → managed, linked to an accepted transfer on its day), end in
    the patient's status, and the attempts before an acceptance are the sending clinic's, the first
    after it a visit by the receiving clinic within the first-visit limit."""
    from xinqiao.followups import synth as followup_synth

    plan = _plan(seed, rate=0.6)
    chunk = synth.Generator(plan).chunk(0)
    rows = {name: chunk.lines.get(table, []) for name, table in plan.table_names.items()}
    transfers = {int(t["id"]): t for t in _parse(rows["transfer"], synth.TRANSFER_COLUMNS)}
    patients = {int(p["id"]): p for p in _parse(rows["patient"], synth.PATIENT_COLUMNS)}
    steps: dict[int, list[dict[str, str]]] = defaultdict(list)
    for row in _parse(rows["status"], synth.STATUS_COLUMNS):
        steps[int(row["patient_id"])].append(row)
    attempts: dict[int, list[dict[str, str]]] = defaultdict(list)
    for row in _parse(chunk.lines[FollowUp._meta.db_table], followup_synth.FOLLOWUP_COLUMNS):
        attempts[int(row["patient_id"])].append(row)
    lifecycle = patient_rules.lifecycle()
    limit = patient_rules.time_limits()["first_visit_days_after_notice"]
    assert transfers
    for pk, patient in patients.items():
        path = steps[pk]
        assert (path[0]["from_status"], path[0]["to_status"]) == ("", PatientStatus.MANAGED)
        for before, after in itertools.pairwise(path):
            assert after["from_status"] == before["to_status"] and after["changed_on"] >= before["changed_on"]
            if after["transfer_id"] != synth.NULL:
                transfer = transfers[int(after["transfer_id"])]
                assert transfer["status"] == TransferStatus.ACCEPTED and transfer["patient_id"] == str(pk)
                assert (after["from_status"], after["to_status"]) == (PatientStatus.MANAGED, PatientStatus.MANAGED)
                assert transfer["decided_at"][:10] == after["changed_on"]
            else:
                assert lifecycle.allowed(after["from_status"], after["to_status"])
        assert (patient["status"], patient["status_changed_on"]) == (path[-1]["to_status"], path[-1]["changed_on"])
    for transfer in transfers.values():
        patient = patients[int(transfer["patient_id"])]
        assert transfer["region_id"] != transfer["from_region_id"]
        if transfer["status"] != TransferStatus.ACCEPTED:
            assert patient["region_id"] == transfer["from_region_id"]
            assert patient["managing_organisation_id"] == transfer["from_organisation_id"]
            continue
        assert patient["region_id"] == transfer["region_id"]
        accepted = transfer["decided_at"][:10]
        sent = [a for a in attempts[int(transfer["patient_id"])] if a["followup_date"] < accepted]
        received = [a for a in attempts[int(transfer["patient_id"])] if a["followup_date"] >= accepted]
        assert all(a["organisation_id"] == transfer["from_organisation_id"] for a in sent)
        assert received and received[0]["outcome"] == "visited"
        assert all(a["organisation_id"] == patient["managing_organisation_id"] for a in received)
        assert date.fromisoformat(received[0]["followup_date"]) <= date.fromisoformat(accepted) + timedelta(days=limit)
