"""The synthetic register (``patients/synth.py``, ``followups/synth.py``) and the demo patients.

What is checked is what the rest of the platform relies on: valid, unique, blind-indexed ID
numbers; every visit classified and scheduled exactly as the rules engine says; the patient's
work-list columns equal to what the follow-up and status services would have left; deadlines
from the official calendar; determinism for a seed; the demo showing every list. Nothing is timed.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import defaultdict
from datetime import date, timedelta
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinqiao.core import idcard
from xinqiao.core.models import Person
from xinqiao.followups import rules as followup_rules
from xinqiao.followups import synth as followup_synth
from xinqiao.followups.models import DischargeRecord, FollowUp
from xinqiao.patients import rules as patient_rules
from xinqiao.patients import synth
from xinqiao.patients.codes import INCIDENT_BEHAVIOURS, Diagnosis, PatientStatus
from xinqiao.patients.models import (
    CaseReport,
    Patient,
    PersonalSupplement,
    RegisterSequence,
    StatusChange,
    SuspectedCase,
)
from xinqiao.patients.workdays import add_working_days

TODAY = date(2026, 3, 16)
COUNTY = "440106"  # 天河区: a few townships keep the plan small


def _build(n: int = 150, seed: int = 5, **extra: Any) -> synth.Report:
    options = synth.SynthOptions(patients=n, seed=seed, years=3, region=COUNTY, today=TODAY, workers=1, **extra)
    return synth.build(options, progress=lambda _m: None)


def _visits_by_patient(prefix: str) -> dict[int, list[dict[str, Any]]]:
    rows = (FollowUp.objects.filter(patient__submission_key__startswith=prefix)
            .order_by("patient_id", "followup_date", "id").values())
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["patient_id"]].append(row)
    return out


# --- Persons ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_persons_have_valid_unique_blind_indexed_id_numbers() -> None:
    report = _build(120)
    assert report.patients == 120
    persons = list(Person.objects.filter(patient__submission_key__startswith="synth:5:"))
    assert len(persons) == 120
    numbers = set()
    for person in persons:
        check = idcard.validate_resident_id(person.id_number)
        assert check.valid, person.id_number
        assert person.id_number[:6] == person.county_code == person.township_code[:6]
        assert check.birth_date == person.birth_date
        assert (int(person.id_number[16]) % 2 == 1) == (person.sex == "M")
        assert person.id_number_index == Person.id_index_for("resident_id", person.id_number)
        assert person.name and person.phone and person.address.startswith("广东省广州市天河区")
        numbers.add(person.id_number)
    assert len(numbers) == 120


@pytest.mark.django_db
def test_the_real_lookup_finds_a_synthetic_patient() -> None:
    from bench.lookup import bench_user, lookup

    _build(40)
    patient = Patient.objects.filter(submission_key__startswith="synth:5:").select_related("person").first()
    assert patient is not None
    user = bench_user("lookup_test", "mhc_staff", "44")
    assert lookup(user, patient.person.id_number) == patient
    elsewhere = bench_user("lookup_test_b", "mhc_staff", "4403")  # 深圳: out of scope, not found
    assert lookup(elsewhere, patient.person.id_number) is None


# --- Patients, histories and the rules -----------------------------------------------------------------

@pytest.mark.django_db
def test_every_visit_is_what_the_rules_engine_says() -> None:
    _build(150)
    visits = 0
    for history in _visits_by_patient("synth:5:").values():
        previous = None
        for row in history:
            assert row["followup_date"] <= TODAY
            if row["outcome"] != "visited":
                continue
            visits += 1
            assert row["previous_classification"] == previous
            proposal = followup_rules.propose(followup_synth.followup_input(row))
            assert row["proposed_classification"] == row["classification"] == proposal.classification
            assert row["proposed_next_date"] == row["next_followup_date"] == proposal.next_followup_date
            assert row["proposed_actions"] == row["actions"] == list(proposal.actions)
            assert row["needs_referral"] == (followup_rules.REFER in proposal.actions)
            assert row["police_notified"] == (followup_rules.NOTIFY_POLICE in proposal.actions)
            assert row["next_followup_date"] <= followup_rules.latest_allowed_date(row["followup_date"])
            assert (row["referral"] == 2) == (proposal.classification == followup_rules.UNSTABLE)
            previous = row["classification"]
    assert visits > 150 * 5


def _expected_columns(patient: Patient, history: list[dict[str, Any]], changes: list[StatusChange],
                      discharges: list[DischargeRecord]) -> dict[str, Any]:
    """Replay the services' effects (followups.services, patients.services) on the patient row."""
    limits = patient_rules.time_limits()
    events: list[tuple[date, int, str, Any]] = [(patient.registered_on, 0, "register", None)]
    events += [(row["followup_date"], 2, "followup", row) for row in history]
    events += [(d.reported_on, 1, "discharge", d) for d in discharges]
    # patients.services.accept_transfer: managed, awaiting the new clinic's first visit.
    events += [(c.changed_on, 1, "transfer", c) for c in changes if c.transfer_id is not None]
    state: dict[str, Any] = {
        "last_followup_date": None, "last_classification": None, "failed_attempts": 0,
        "awaiting_first_visit_since": None, "next_followup_due": None,
    }
    for on, _order, kind, item in sorted(events, key=lambda e: (e[0], e[1], e[3]["id"] if e[2] == "followup" else 0)):
        if kind == "register":
            state["awaiting_first_visit_since"] = on
            state["next_followup_due"] = patient_rules.first_visit_due(on)
        elif kind == "transfer":
            state.update(awaiting_first_visit_since=on, next_followup_due=patient_rules.first_visit_due(on),
                         failed_attempts=0)
        elif kind == "discharge":
            state["awaiting_first_visit_since"] = on
            first = on + timedelta(days=limits["first_visit_days_after_notice"])
            if state["next_followup_due"] is None or state["next_followup_due"] > first:
                state["next_followup_due"] = first
        elif item["outcome"] == "visited":
            state.update(last_followup_date=on, last_classification=item["classification"], failed_attempts=0,
                         next_followup_due=item["next_followup_date"], awaiting_first_visit_since=None)
        elif item["outcome"] == "not_reached":
            state["failed_attempts"] += 1
        else:
            state["next_followup_due"] = None
    if patient.status in (PatientStatus.MOVED_OUT, PatientStatus.DEREGISTERED):
        state["next_followup_due"] = state["awaiting_first_visit_since"] = None
    return state


@pytest.mark.django_db
def test_patient_columns_equal_what_the_history_implies() -> None:
    _build(150)
    histories = _visits_by_patient("synth:5:")
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    for change in StatusChange.objects.filter(patient__submission_key__startswith="synth:5:").order_by("changed_on", "id"):
        changes[change.patient_id].append(change)
    discharges: dict[int, list[DischargeRecord]] = defaultdict(list)
    for record in DischargeRecord.objects.filter(patient__submission_key__startswith="synth:5:"):
        discharges[record.patient_id].append(record)
    supplements = {s.patient_id: s for s in PersonalSupplement.objects.filter(patient__submission_key__startswith="synth:5:")}
    reports = {r.patient_id: r for r in CaseReport.objects.filter(patient__submission_key__startswith="synth:5:")}
    lifecycle = patient_rules.lifecycle()
    statuses = set()
    for patient in Patient.objects.filter(submission_key__startswith="synth:5:"):
        history = histories.get(patient.pk, [])
        expected = _expected_columns(patient, history, changes[patient.pk], discharges[patient.pk])
        for name, value in expected.items():
            assert getattr(patient, name) == value, (patient.submission_key, name)
        visits = [row for row in history if row["outcome"] == "visited"]
        if visits:
            assert patient.danger_level == visits[-1]["danger_level"]
        # Status history: registration first, every step allowed, the last one is the status.
        steps = changes[patient.pk]
        assert steps[0].from_status == "" and steps[0].to_status == PatientStatus.MANAGED
        assert steps[0].changed_on == patient.registered_on
        for before, after in itertools.pairwise(steps):
            assert after.from_status == before.to_status
            if after.transfer_id is not None:  # accept_transfer: not a status change, back to managed
                assert patient_rules.on_register(after.from_status) and after.to_status == PatientStatus.MANAGED
                continue
            assert lifecycle.allowed(after.from_status, after.to_status), (after.from_status, after.to_status)
        assert (patient.status, patient.status_changed_on) == (steps[-1].to_status, steps[-1].changed_on)
        statuses.add(patient.status)
        if patient.status == PatientStatus.DEAD:
            assert history[-1]["outcome"] == "dead" and steps[-1].death_date == history[-1]["death_date"]
        if patient.status == PatientStatus.LOST:
            assert history[-1]["outcome"] == "not_reached" and history[-1]["loss_reason"] == steps[-1].loss_reason
        # 肇事肇祸: seen at a visit, or recorded on the case report or the supplement.
        seen = any(row["trouble_count"] or row["disaster_count"] for row in visits)
        supplement = supplements.get(patient.pk)
        report = reports.get(patient.pk)
        recorded = bool(supplement and (supplement.trouble_count or supplement.disaster_count)) or bool(
            report and INCIDENT_BEHAVIOURS & set(report.prior_danger))
        assert patient.incident_history == (seen or recorded), patient.submission_key
        assert patient.registered_on <= TODAY and all(row["followup_date"] >= patient.registered_on for row in history)
    assert PatientStatus.MANAGED in statuses and len(statuses) >= 3


@pytest.mark.django_db
def test_deadlines_follow_the_official_calendar_and_register_numbers_continue() -> None:
    _build(150)
    reports = list(CaseReport.objects.filter(patient__submission_key__startswith="synth:5:").select_related("patient"))
    assert reports
    sources = set()
    for report in reports:
        sources.add(report.patient.source)
        assert report.diagnosed_on == report.patient.diagnosed_on
        assert patient_rules.icd10_errors(report.diagnosis, report.icd10_code, report.co_icd10_code) == []
        if report.status == "draft":  # a confirmed suspected case's card not entered yet: the clock runs
            pending = patient_rules.pending_case_report_due(report.diagnosed_on)
            assert report.patient.source == "community" and report.entered_on is None
            assert (report.report_deadline, report.late) == (pending.report_deadline, pending.overdue(TODAY))
            continue
        timing = patient_rules.case_report_timeliness(report.diagnosed_on, report.entered_on, report.received_on)
        assert (report.report_deadline, report.entry_deadline, report.late) == (
            timing.report_deadline, timing.entry_deadline, timing.late)
        if report.patient.source == "case_report":  # the card registered the patient
            assert report.entered_on == report.patient.registered_on
        else:  # entered by the hospital after confirm_suspected_case registered the patient
            assert report.patient.source == "community"
            assert report.patient.registered_on <= report.entered_on <= TODAY
    assert sources == {"case_report", "community"}
    for record in DischargeRecord.objects.filter(patient__submission_key__startswith="synth:5:"):
        due = add_working_days(record.discharge_date, patient_rules.time_limits()["discharge_report_working_days"])
        assert record.report_deadline == due.date and record.late == (record.reported_on > due.date)
        assert record.admission_date < record.discharge_date <= record.reported_on <= TODAY
    numbers = list(Patient.objects.filter(submission_key__startswith="synth:5:").values_list(
        "register_number", "county_code", "registered_on"))
    for number, county, registered in numbers:
        assert number.startswith(f"{county}{registered.year}") and len(number) == 16
    top = {(s.county_code, s.year): s.last for s in RegisterSequence.objects.all()}
    for number, county, registered in numbers:
        assert int(number[-6:]) <= top[(county, registered.year)]
    from xinqiao.patients.services import next_register_numbers

    county, registered = numbers[0][1], numbers[0][2]
    assert next_register_numbers(county, registered.year)[0] not in {n for n, _c, _r in numbers}


@pytest.mark.django_db
def test_proportions_look_like_a_register() -> None:
    _build(400, seed=8)
    rows = list(Patient.objects.filter(submission_key__startswith="synth:8:").values_list(
        "diagnosis", "danger_level", "icd10_code", "co_icd10_code", "status"))
    diagnoses = [r[0] for r in rows]
    assert 0.6 <= diagnoses.count(Diagnosis.SCHIZOPHRENIA) / 400 <= 0.8
    assert set(diagnoses) == set(Diagnosis.values)
    danger = [r[1] for r in rows]
    assert sum(d <= 1 for d in danger) / 400 >= 0.85 and any(d >= 3 for d in danger)
    for diagnosis, _d, code, co_code, _s in rows:
        assert patient_rules.icd10_errors(diagnosis, code, co_code) == []
    per_patient = FollowUp.objects.filter(patient__submission_key__startswith="synth:8:").count() / 400
    assert 6 <= per_patient <= 16  # about 10 over three years (≥4 a year while managed)


# --- Determinism, the command, loud failure on an unknown column --------------------------------------

def _snapshot(prefix: str) -> list[tuple[Any, ...]]:
    patients = {p.pk: p for p in Patient.objects.filter(submission_key__startswith=prefix).select_related("person")}
    out: list[tuple[Any, ...]] = [(p.submission_key, p.person.name, p.person.id_number, p.diagnosis, p.status, p.registered_on,
            p.next_followup_due, p.last_classification, p.township_code, p.register_number) for p in patients.values()]
    out += [(patients[r["patient_id"]].submission_key, r["followup_date"], r["outcome"], r["classification"],
             r["next_followup_date"]) for r in FollowUp.objects.filter(patient_id__in=patients).values()]
    return sorted(out, key=repr)


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_population() -> None:
    _build(60, seed=11)
    first = _snapshot("synth:11:")
    RegisterSequence.objects.all().delete()  # register numbers continue the live sequence
    assert synth.clear_population("synth:11:") == 60
    assert not Patient.objects.filter(submission_key__startswith="synth:11:").exists()
    _build(60, seed=11, batch=500)
    assert _snapshot("synth:11:") == first
    _build(60, seed=12)
    other = _snapshot("synth:12:")
    assert [row[1:4] for row in other[:20]] != [row[1:4] for row in first[:20]]


@pytest.mark.django_db
def test_command_prints_json_and_refuses_to_duplicate_a_population() -> None:
    out = StringIO()
    call_command("synth", "--patients", "30", "--seed", "21", "--region", COUNTY, "--today", "2026-03-16",
                 stdout=out, stderr=StringIO())
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert report["patients"] == 30 and report["followups"] == FollowUp.objects.count()
    others = SuspectedCase.objects.filter(patient__isnull=True).count()  # suspected persons who are not patients
    assert report["rows"]["core_person"] == 30 + others and report["prefix"] == "synth:21:"
    with pytest.raises(CommandError, match="exist"):
        call_command("synth", "--patients", "30", "--seed", "21", "--region", COUNTY, stdout=StringIO(),
                     stderr=StringIO())
    call_command("synth", "--patients", "20", "--seed", "21", "--region", COUNTY, "--replace", stdout=StringIO(),
                 stderr=StringIO())
    assert synth.population_complete("synth:21:", 20)
    with pytest.raises(CommandError, match="--today"):
        call_command("synth", "--patients", "5", "--today", "16/03/2026", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_a_column_synth_does_not_know_fails_loudly() -> None:
    with pytest.raises(RuntimeError, match="NOT NULL without a default"):
        synth.Table(Patient, ("id",), "2026-01-01T00:00:00+00:00")
    with pytest.raises(RuntimeError, match="no column"):
        synth.Table(Patient, ("id", "shoe_size"), "2026-01-01T00:00:00+00:00")


@pytest.mark.flushes
@pytest.mark.django_db(transaction=True)
def test_fast_load_restores_indexes_and_foreign_keys() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("dropping and rebuilding indexes is a PostgreSQL load path")
    tables = list(synth.all_tables("2026-01-01T00:00:00+00:00"))
    before = (synth.secondary_indexes(tables), synth.foreign_keys(tables))
    _build(30, seed=31, indexes="drop")
    assert (synth.secondary_indexes(tables), synth.foreign_keys(tables)) == before
    assert synth.population_complete("synth:31:", 30)


# --- Histories as a property, without the database ------------------------------------------------------

def _builder(today: date) -> followup_synth.HistoryBuilder:
    builder = followup_synth.HistoryBuilder(seed=3, today=today, years=3, now_text="")
    builder.configure(drugs=[(1, "利培酮", "antipsychotic", False), (2, "碳酸锂", "mood_stabiliser", False),
                             (3, "帕利哌酮棕榈酸酯注射液", "antipsychotic", True)],
                      suffix={"followup": "", "medication": "", "participant": "", "discharge": ""},
                      table_names={"followup": "f", "medication": "m", "participant": "p", "discharge": "d"})
    return builder


def _rows(lines: list[str], columns: tuple[str, ...]) -> list[dict[str, str]]:
    return [dict(zip(columns, line.split("\t"), strict=True)) for line in lines]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**9), diagnosis=st.sampled_from(sorted(synth.ICD10_CODES)),
       source=st.sampled_from(["case_report", "community", "import", "transfer_in"]))
def test_histories_keep_the_rules_property(seed: int, diagnosis: str, source: str) -> None:
    """Whatever the draw: the engine's class and date at every visit, dates in order and never after
    today, at most 3 months between a visit and its next date, the final state matching the rows."""
    builder = _builder(TODAY)
    rng = random.Random(seed)
    town = SimpleNamespace(code="440106001", province="44", city="4401", county="440106", clinic_id=7,
                           hospital_id=9, hospital_name="广州市精神专科医院")
    subject = builder.subject(rng, patient_id=1, birth=date(1970, 5, 5), diagnosis=diagnosis,
                              icd10_code=synth.ICD10_CODES[diagnosis][0], source=source, doctor_id=3, town=town)
    history = builder.simulate(rng, subject, followup_synth.IdBlock(1000, builder.ids_per_patient()))
    rows = _rows(history.lines["f"], followup_synth.FOLLOWUP_COLUMNS)
    dates = [date.fromisoformat(r["followup_date"]) for r in rows]
    assert dates == sorted(dates) and all(d <= TODAY for d in dates)
    previous = None
    for r in rows:
        if r["outcome"] != "visited":
            continue
        assert r["previous_classification"] == ("\\N" if previous is None else str(previous))
        proposal = followup_rules.propose(followup_rules.RuleInput(
            followup_date=date.fromisoformat(r["followup_date"]), danger_level=int(r["danger_level"]),
            insight=int(r["insight"]), symptoms=tuple(json.loads(r["symptoms"])), symptoms_marked=r["symptoms_marked"] == "1",
            social_function={k: int(r[k]) for k in followup_rules.SOCIAL_FUNCTION_ITEMS},
            adverse_reaction_serious=r["adverse_reaction_serious"] == "1",
            physical_illness_serious=r["physical_illness_serious"] == "1", previous_classification=previous))
        assert int(r["classification"]) == proposal.classification
        assert date.fromisoformat(r["next_followup_date"]) == proposal.next_followup_date
        assert json.loads(r["actions"]) == list(proposal.actions)
        previous = proposal.classification
    visits = [r for r in rows if r["outcome"] == "visited"]
    state = history.state
    assert state.last_followup_date == (date.fromisoformat(visits[-1]["followup_date"]) if visits else None)
    assert state.last_classification == (int(visits[-1]["classification"]) if visits else None)
    trailing = 0  # followups.services: a not-reached attempt adds one, a visit resets, a death row leaves it
    for r in reversed(rows):
        if r["outcome"] == "visited":
            break
        trailing += r["outcome"] == "not_reached"
    assert state.failed_attempts == trailing
    assert state.status in PatientStatus.values
    if state.status == PatientStatus.LOST:
        assert rows[-1]["loss_reason"] != "\\N"
    ids = [int(r["id"]) for r in rows]
    assert ids == sorted(set(ids))
    for m in _rows(history.lines.get("m", []), followup_synth.MEDICATION_COLUMNS):
        assert int(m["followup_id"]) in ids


# --- The demo --------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_demo_patients_show_every_list_and_are_built_once() -> None:
    from xinqiao.core.demo import DemoResult, build_accounts, build_organisations, demo_townships
    from xinqiao.core.roles import sync_roles
    from xinqiao.followups import demo as followup_demo
    from xinqiao.followups.models import HealthCheck
    from xinqiao.patients import demo

    sync_roles()
    rng = random.Random(2026)
    towns = demo_townships()
    orgs = build_organisations(rng, towns)
    result = DemoResult(accounts=build_accounts(rng, towns, orgs), townships=towns, orgs=orgs)
    demo.extend_demo(random.Random(2028), result)
    followup_demo.extend_demo(random.Random(2028), result)
    assert demo.missing(towns) == []
    total = Patient.objects.filter(submission_key__startswith=demo.PREFIX).count()
    assert 2 * demo.PER_TOWNSHIP <= total <= 2 * demo.PER_TOWNSHIP + demo.TOP_UPS * demo.TOP_UP
    assert set(Patient.objects.filter(submission_key__startswith=demo.PREFIX).values_list(
        "managing_organisation_id", flat=True)) == {orgs["chc_a"].pk, orgs["chc_b"].pk}
    assert HealthCheck.objects.exists()
    assert any(note.startswith("Demo patients") for note in result.notes)
    assert any(note.startswith("Demo transfers") for note in result.notes)
    # A handful of each way onto a register, in each township: transfers in every state, and
    # suspected cases confirmed, closed, reported and referred.
    from xinqiao.patients.models import Transfer

    for town in towns:
        incoming = Transfer.objects.filter(region_id=town.code)
        assert {"pending", "declined", "accepted"} <= set(incoming.values_list("status", flat=True)), town.code
        assert {"confirmed", "closed", "reported", "referred"} <= set(
            SuspectedCase.objects.filter(region_id=town.code).values_list("status", flat=True)), town.code
    demo.extend_demo(random.Random(2028), result)
    followup_demo.extend_demo(random.Random(2028), result)
    assert Patient.objects.filter(submission_key__startswith=demo.PREFIX).count() == total
