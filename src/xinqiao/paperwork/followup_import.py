"""Importing follow-up records (随访服务记录表) of registered patients from a spreadsheet.

One row is one follow-up, as kept on paper or in an earlier system, of a patient already on a
register in the importer's region, found by ID number through the blind index. Its outcome
(``outcome``: 1 visited, blank too; 2 not reached — 随访失败; 3 the patient has died) says which
items it carries, as on the phone form:

- a visit fills the assessment (every item and code of the national form, DOMAIN.md §4);
- a failed attempt gives the method tried and why the patient was not reached, and the 失访原因
  (``loss_reason``) where the doctor declared the patient lost to follow-up;
- a death gives the date and cause of death (死亡日期, 死亡原因, the 躯体疾病 sub-code for cause 1).

The per-row rules are those of the form, ``followups.services.followup_errors`` (which checks a
death with ``_death_errors``): required items, codes, "other" needs a text, a referral needs reason
and institution, … Items of another outcome must be left empty (a misplaced row is an error, not
silently dropped).

Classification and next date of a visit: the national rules (``followups.rules.propose``) run on
every visit, with the previous classification taken from the patient's earlier visits — those
already stored and the earlier rows of the same file. A blank classification or next date takes
the proposal; a recorded one that departs from it is kept (it is what the doctor decided at the
time) with the reason given in the file, or "imported as recorded" when none is. The next date
must still fall after the visit and within the national maximum interval.

The patient afterwards (checked before anything is written, applied set-based at commit): the
work-list columns follow the newest visit as ``followups.services.record_followup`` keeps them;
failed attempts after the newest visit are counted (three in a row: the work list's 失访 prompt
and its notice, as for the form); a 失访原因 on an attempt after the newest visit moves the patient
to 失访 and a death to 死亡 through the register's lifecycle rules (``patients.rules``: a change
the lifecycle refuses is an error on the row); no row may follow the death.

Notices (after commit, ``followups.tasks.send_import_notices``, set-based): for each patient's
newest imported row when it is the newest follow-up on record and its plan still runs (a visit
whose next date is not past — older rows are history), the police at the danger threshold and,
when the decision says ``refer``, the two-way referral opened in the import's transaction
(``referrals.services.refer_from_followup``, as the form does); for every patient of the file the
work-list job's overdue notice when the imported next date has passed, and the 失访 prompt.

Re-import: a file already committed is refused by its hash (``paperwork.services``); a follow-up
of the same patient on the same date is skipped (already present); the same patient and date twice
in one file is an error.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from xinqiao.core import idcard
from xinqiao.core.models import DocumentType, Person
from xinqiao.core.scope import in_scope
from xinqiao.core.services import idcard_error_message
from xinqiao.paperwork.columns import BOOL, CODE, CODES, COUNT, DATE, DECIMAL, Column, RowError
from xinqiao.patients.codes import (
    Adherence,
    Classification,
    DangerLevel,
    DeathCause,
    FollowUpMethod,
    HospitalStatus,
    Insight,
    LockStatus,
    LossReason,
    PatientStatus,
    PhysicalDeathCause,
    Rating,
    RehabMeasure,
    Symptom,
    TreatmentEffect,
)

MEDICATION_LINES = 3
WORK_CHOICES = [*Rating.choices, (9, pgettext_lazy("spreadsheet", "not applicable"))]
#: 随访结果 in the sheet: the code → ``followups.codes.Outcome`` (blank is a visit).
OUTCOME_CHOICES = [(1, pgettext_lazy("spreadsheet", "visited")), (2, pgettext_lazy("spreadsheet", "not reached")),
                   (3, pgettext_lazy("spreadsheet", "the patient has died"))]
OUTCOMES = {1: "visited", 2: "not_reached", 3: "dead"}
VISIT_ITEM = pgettext_lazy("spreadsheet", "Required for a visit (outcome 1); empty otherwise.")


def _presence() -> Any:
    from xinqiao.followups.codes import Presence

    return Presence


def _yes_no() -> Any:
    from xinqiao.followups.codes import YesNo

    return YesNo


def _medication_columns() -> tuple[Column, ...]:
    out: list[Column] = []
    for n in range(1, MEDICATION_LINES + 1):
        out += [
            Column(f"drug{n}_name", format_lazy(pgettext_lazy("spreadsheet", "Drug {n}"), n=n), max_length=64, width=14,
                   example="利培酮" if n == 1 else "",
                   hint=pgettext_lazy("spreadsheet", "Generic name as in the medication catalogue, or as written.")),
            Column(f"drug{n}_times", format_lazy(pgettext_lazy("spreadsheet", "Drug {n}: times per day (per month for long-acting "
                                                   "injections)"), n=n), COUNT, extra={"min": 1, "max": 31},
                   example=2 if n == 1 else ""),
            Column(f"drug{n}_dose", format_lazy(pgettext_lazy("spreadsheet", "Drug {n}: dose each time (mg)"), n=n), DECIMAL,
                   example="2" if n == 1 else ""),
        ]
    return tuple(out)


COLUMNS: tuple[Column, ...] = (
    Column("id_number", pgettext_lazy("spreadsheet", "ID number"), required=True, max_length=32, example="440106199001011235", width=22,
           hint=pgettext_lazy("spreadsheet", "The patient's ID number: the patient must be registered in your region.")),
    Column("id_type", pgettext_lazy("spreadsheet", "Document type"), CODE, choices=DocumentType,
           hint=pgettext_lazy("spreadsheet", "Blank means resident identity card."), width=18),
    Column("followup_date", pgettext_lazy("spreadsheet", "Follow-up date"), DATE, required=True, example="2024-05-10"),
    Column("outcome", pgettext_lazy("spreadsheet", "Follow-up outcome"), CODE, choices=OUTCOME_CHOICES, example="1",
           hint=pgettext_lazy("spreadsheet", "1 visited (blank too), 2 not reached, 3 the patient has died: each fills "
                                             "its own columns.")),
    Column("method", pgettext_lazy("spreadsheet", "Follow-up method"), CODE, choices=FollowUpMethod, example="2",
           hint=pgettext_lazy("spreadsheet", "Required for a visit and for an attempt that did not reach the "
                                             "patient (the method tried).")),
    Column("not_reached_reason", pgettext_lazy("spreadsheet", "Why not reached"), max_length=200,
           hint=pgettext_lazy("spreadsheet", "Outcome 2: required.")),
    Column("loss_reason", pgettext_lazy("spreadsheet", "Reason lost to follow-up"), CODE, choices=LossReason,
           hint=pgettext_lazy("spreadsheet", "Outcome 2, only when declaring the patient lost to follow-up (失访).")),
    Column("death_date", pgettext_lazy("spreadsheet", "Date of death"), DATE,
           hint=pgettext_lazy("spreadsheet", "Outcome 3: required.")),
    Column("death_cause", pgettext_lazy("spreadsheet", "Cause of death"), CODE, choices=DeathCause,
           hint=pgettext_lazy("spreadsheet", "Outcome 3: required.")),
    Column("physical_death_cause", pgettext_lazy("spreadsheet", "Physical illness (cause of death 1)"), CODE,
           choices=PhysicalDeathCause, hint=pgettext_lazy("spreadsheet", "Only for cause of death 1.")),
    Column("danger_level", pgettext_lazy("spreadsheet", "Danger level"), CODE, choices=DangerLevel, example="0", hint=VISIT_ITEM),
    Column("symptoms", pgettext_lazy("spreadsheet", "Current symptoms"), CODES, choices=Symptom, example="10,11",
           hint=pgettext_lazy("spreadsheet", "Several codes separated by commas; blank for none.")),
    Column("symptoms_marked", pgettext_lazy("spreadsheet", "Marked psychotic symptoms"), BOOL, example="否"),
    Column("symptoms_other", pgettext_lazy("spreadsheet", "Other symptoms"), max_length=200),
    Column("insight", pgettext_lazy("spreadsheet", "Insight"), CODE, choices=Insight, example="2", hint=VISIT_ITEM),
    Column("sleep", pgettext_lazy("spreadsheet", "Sleep"), CODE, choices=Rating, example="1", hint=VISIT_ITEM),
    Column("diet", pgettext_lazy("spreadsheet", "Diet"), CODE, choices=Rating, example="1", hint=VISIT_ITEM),
    Column("self_care", pgettext_lazy("spreadsheet", "Personal self-care"), CODE, choices=Rating, example="1", hint=VISIT_ITEM),
    Column("housework", pgettext_lazy("spreadsheet", "Housework"), CODE, choices=Rating, example="2", hint=VISIT_ITEM),
    Column("work", pgettext_lazy("spreadsheet", "Productive work"), CODE, choices=WORK_CHOICES, example="9", hint=VISIT_ITEM),
    Column("study", pgettext_lazy("spreadsheet", "Learning ability"), CODE, choices=Rating, example="2", hint=VISIT_ITEM),
    Column("social", pgettext_lazy("spreadsheet", "Social contact"), CODE, choices=Rating, example="2", hint=VISIT_ITEM),
    Column("minor_trouble_count", pgettext_lazy("spreadsheet", "Minor trouble-making (times)"), COUNT),
    Column("trouble_count", pgettext_lazy("spreadsheet", "Causing trouble (times)"), COUNT),
    Column("disaster_count", pgettext_lazy("spreadsheet", "Causing a disaster (times)"), COUNT),
    Column("other_harm_count", pgettext_lazy("spreadsheet", "Other harmful behaviour (times)"), COUNT),
    Column("self_harm_count", pgettext_lazy("spreadsheet", "Self-harm (times)"), COUNT),
    Column("suicide_attempt_count", pgettext_lazy("spreadsheet", "Attempted suicide (times)"), COUNT),
    Column("lock_status", pgettext_lazy("spreadsheet", "Locking up"), CODE, choices=LockStatus, example="1", hint=VISIT_ITEM),
    Column("hospital_status", pgettext_lazy("spreadsheet", "Hospitalisation"), CODE, choices=HospitalStatus, example="0", hint=VISIT_ITEM),
    Column("last_discharge_date", pgettext_lazy("spreadsheet", "Last discharge"), DATE),
    Column("lab_tests", pgettext_lazy("spreadsheet", "Laboratory tests"), CODE, choices=_presence(), example="1", hint=VISIT_ITEM),
    Column("lab_tests_text", pgettext_lazy("spreadsheet", "Laboratory results"), max_length=500),
    Column("adherence", pgettext_lazy("spreadsheet", "Medication adherence"), CODE, choices=Adherence, example="1", hint=VISIT_ITEM),
    Column("adverse_reaction", pgettext_lazy("spreadsheet", "Adverse drug reaction"), CODE, choices=_presence(), example="1", hint=VISIT_ITEM),
    Column("adverse_reaction_text", pgettext_lazy("spreadsheet", "Adverse reaction"), max_length=500),
    Column("adverse_reaction_serious", pgettext_lazy("spreadsheet", "Serious adverse reaction"), BOOL),
    Column("physical_illness_serious", pgettext_lazy("spreadsheet", "Serious physical illness"), BOOL),
    Column("physical_illness_text", pgettext_lazy("spreadsheet", "Physical illness"), max_length=500),
    Column("treatment_effect", pgettext_lazy("spreadsheet", "Treatment effect"), CODE, choices=TreatmentEffect, example="2", hint=VISIT_ITEM),
    Column("referral", pgettext_lazy("spreadsheet", "Referral"), CODE, choices=_yes_no(), example="1", hint=VISIT_ITEM),
    Column("referral_reason", pgettext_lazy("spreadsheet", "Reason for referral"), max_length=500),
    Column("referral_institution", pgettext_lazy("spreadsheet", "Referred to (institution)"), max_length=128),
    Column("referral_department", pgettext_lazy("spreadsheet", "Referred to (department)"), max_length=64),
    Column("rehab_measures", pgettext_lazy("spreadsheet", "Rehabilitation measures"), CODES, choices=RehabMeasure, example="1,4"),
    Column("rehab_other", pgettext_lazy("spreadsheet", "Other rehabilitation measure"), max_length=200),
    Column("classification", pgettext_lazy("spreadsheet", "Classification of this follow-up"), CODE, choices=Classification,
           hint=pgettext_lazy("spreadsheet", "Blank: the national rules classify the visit.")),
    Column("next_followup_date", pgettext_lazy("spreadsheet", "Next follow-up date"), DATE,
           hint=pgettext_lazy("spreadsheet", "Blank: from the classification (national rules).")),
    Column("override_reason", pgettext_lazy("spreadsheet", "Reason for departing from the rules"), max_length=500),
    Column("doctor_name", pgettext_lazy("spreadsheet", "Follow-up doctor"), max_length=64, example="李医生"),
    *_medication_columns(),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
TEXT_FIELDS = ("symptoms_other", "lab_tests_text", "adverse_reaction_text", "physical_illness_text",
               "referral_reason", "referral_institution", "referral_department", "rehab_other", "doctor_name",
               "override_reason", "not_reached_reason")
#: Columns only a visit fills (with the medication columns); only a failed attempt; only a death.
VISIT_KEYS: tuple[str, ...] = tuple(
    c.key for c in COLUMNS if c.key not in {"id_number", "id_type", "followup_date", "outcome", "method",
                                             "not_reached_reason", "loss_reason", "death_date", "death_cause",
                                             "physical_death_cause", "doctor_name"})
NOT_REACHED_KEYS = ("not_reached_reason", "loss_reason")
DEATH_KEYS = ("death_date", "death_cause", "physical_death_cause")
#: Stands in for the patient in the row checks; the real patient (and its status) is checked per file.
ANY_PATIENT = SimpleNamespace(status=PatientStatus.MANAGED)


def header(key: str) -> str:
    return str(COLUMN_BY_KEY[key].header)


@dataclass
class VisitRow:
    """A row that passed its own checks (a visit, a failed attempt or a death)."""

    row: int
    data: Any  # followups.services.FollowUpInput
    index: str
    drugs: list[str] = field(default_factory=list)
    patient: Any = None
    decision: dict[str, Any] = field(default_factory=dict)
    #: The patient's newest imported row, newest on record, its plan still running: notices are sent.
    current: bool = False


@dataclass
class PatientPlan:
    """What the commit changes on one patient (decided while checking, applied set-based)."""

    patient: Any
    values: dict[str, Any] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)  # StatusChange rows, in date order


def _refused(number: int, errors: list[RowError]) -> set[str]:
    """The columns of row ``number`` already reported (its errors are the last ones of the list)."""
    out: set[str] = set()
    for earlier in reversed(errors):
        if earlier.row != number:
            break
        out.add(earlier.column)
    return out


class FollowUpImport:
    """Validate and commit a sheet of follow-ups (visits, failed attempts, deaths)."""

    columns = COLUMNS

    def __init__(self, actor: Any) -> None:
        from xinqiao.followups.models import MedicationCatalogue

        self.actor = actor
        self.today = timezone.localdate()
        self.catalogue = {name: (pk, period, unit) for name, pk, period, unit in MedicationCatalogue.objects.values_list(
            "generic_name_zh", "id", "default_period", "default_unit")}
        self.plans: dict[int, PatientPlan] = {}

    # --- one row ----------------------------------------------------------------------------------

    def check_row(self, number: int, values: dict[str, Any], errors: list[RowError]) -> VisitRow | None:
        from xinqiao.followups.codes import Outcome
        from xinqiao.followups.services import REQUIRED_CODED, FollowUpInput, MedicationInput, followup_errors

        start = len(errors)

        def error(key: str, message: str) -> None:
            errors.append(RowError(number, header(key) if key in COLUMN_BY_KEY else "", message))

        id_type = values.get("id_type") or DocumentType.RESIDENT_ID
        raw_id = values.get("id_number") or ""
        index = ""
        if raw_id:
            checked = idcard.validate_document(id_type, raw_id)
            if checked.valid:
                index = Person.id_index_for(id_type, checked.normalized)
            else:
                error("id_number", idcard_error_message(checked.error))
        if header("outcome") in _refused(number, errors):
            return None  # an unreadable outcome: which items the row needs is unknown
        outcome = OUTCOMES.get(values.get("outcome") or 1, Outcome.VISITED)
        # Items of another outcome: a misplaced row is reported, not silently dropped.
        if outcome != Outcome.VISITED:
            filled = [key for key in VISIT_KEYS if values.get(key) not in (None, "", 0, False, ())]
            if filled:
                error(filled[0], _("Leave this column empty: the patient was not visited (outcome %(code)s).")
                      % {"code": values.get("outcome")})
        for key in NOT_REACHED_KEYS if outcome != Outcome.NOT_REACHED else ():
            if values.get(key) is not None:
                error(key, _("Only a follow-up that did not reach the patient (outcome 2) fills this column."))
        for key in DEATH_KEYS if outcome != Outcome.DEAD else ():
            if values.get(key) is not None:
                error(key, _("Only a death (outcome 3) fills this column."))
        lines: list[Any] = []
        names: list[str] = []
        for n in range(1, MEDICATION_LINES + 1) if outcome == Outcome.VISITED else ():
            name, times, dose = (values.get(f"drug{n}_{part}") for part in ("name", "times", "dose"))
            if name is None and times is None and dose is None:
                continue
            drug = self.catalogue.get(name or "")
            period, unit = (drug[1], drug[2]) if drug else ("day", "mg")
            if name is None:
                error(f"drug{n}_name", _("Give the drug's name."))
            if times is None:
                error(f"drug{n}_times", _("This column must not be empty."))
            if dose is None:
                error(f"drug{n}_dose", _("This column must not be empty."))
            if name is not None and times is not None and dose is not None:
                lines.append(MedicationInput(times=int(times), dose=Decimal(dose), drug_name=name, period=period,
                                             unit=unit))
                names.append(name)
        followup_date = values.get("followup_date")
        if followup_date is None or len(errors) > start:
            return None
        kwargs: dict[str, Any] = {name: int(values.get(name) or 0) for name in (
            "minor_trouble_count", "trouble_count", "disaster_count", "other_harm_count", "self_harm_count",
            "suicide_attempt_count")}
        kwargs.update({name: values.get(name) or "" for name in TEXT_FIELDS})
        data = FollowUpInput(
            followup_date=followup_date, outcome=outcome, method=values.get("method"),
            loss_reason=values.get("loss_reason"), death_date=values.get("death_date"),
            death_cause=values.get("death_cause"), physical_death_cause=values.get("physical_death_cause"),
            danger_level=values.get("danger_level"),
            symptoms=tuple(values.get("symptoms") or ()), symptoms_marked=bool(values.get("symptoms_marked")),
            insight=values.get("insight"), sleep=values.get("sleep"), diet=values.get("diet"),
            self_care=values.get("self_care"), housework=values.get("housework"), work=values.get("work"),
            study=values.get("study"), social=values.get("social"),
            lock_status=values.get("lock_status"), hospital_status=values.get("hospital_status"),
            last_discharge_date=values.get("last_discharge_date"), lab_tests=values.get("lab_tests"),
            adherence=values.get("adherence"), adverse_reaction=values.get("adverse_reaction"),
            adverse_reaction_serious=bool(values.get("adverse_reaction_serious")),
            physical_illness_serious=bool(values.get("physical_illness_serious")),
            treatment_effect=values.get("treatment_effect"), referral=values.get("referral"),
            rehab_measures=tuple(values.get("rehab_measures") or ()), classification=values.get("classification"),
            next_followup_date=values.get("next_followup_date"), medications=tuple(lines), **kwargs,
        )
        reported = _refused(number, errors)  # cells already refused (missing, bad code): one message each
        empty = _("This column must not be empty.")
        for key, message in followup_errors(ANY_PATIENT, data, self.today).items():  # type: ignore[arg-type]
            if key.startswith("medications."):
                _prefix, position, part = key.split(".", 2)
                key = f"drug{int(position) + 1}_{'name' if part.startswith('drug') else part}"
            if key in COLUMN_BY_KEY and header(key) in reported:
                continue
            if key in COLUMN_BY_KEY and values.get(key) is None and (
                    key in REQUIRED_CODED or key in ("death_date", "death_cause")):
                message = empty  # the same words as for any empty required cell
            error(key, message)
        if len(errors) > start:
            return None
        return VisitRow(row=number, data=data, index=index, drugs=names)

    # --- the file ---------------------------------------------------------------------------------

    def check_duplicates(self, rows: list[VisitRow], errors: list[RowError], notes: list[list[Any]]) -> list[VisitRow]:
        """Find each row's patient (in the importer's region), drop follow-ups already stored, run the
        rules on the visits and plan each patient's columns and status changes."""
        from xinqiao.followups.models import FollowUp
        from xinqiao.followups.services import FOLLOWED_STATUSES
        from xinqiao.patients.models import Patient

        id_header = header("id_number")
        patients: dict[str, Any] = {}
        indexes = list({row.index for row in rows})
        for start in range(0, len(indexes), 2000):
            for patient in (Patient.objects.restrict(self.actor).filter(
                    person__id_number_index__in=indexes[start:start + 2000]).select_related("person")):
                if in_scope(self.actor, patient.township_code):
                    patients[patient.person.id_number_index] = patient
        matched: list[VisitRow] = []
        for row in rows:
            patient = patients.get(row.index)
            if patient is None:
                errors.append(RowError(row.row, id_header, _("No registered patient in your region has this ID "
                                                             "number.")))
            else:
                row.patient = patient
                matched.append(row)
        ids = list({row.patient.pk for row in matched})
        stored: dict[tuple[int, date], str] = {}
        visits: dict[int, list[tuple[date, int]]] = defaultdict(list)
        for start in range(0, len(ids), 2000):
            for patient_id, on, outcome, classification in FollowUp.objects.filter(
                    patient_id__in=ids[start:start + 2000]).values_list("patient_id", "followup_date", "outcome",
                                                                         "classification"):
                stored[(patient_id, on)] = outcome
                if outcome == "visited" and classification is not None:
                    visits[patient_id].append((on, classification))
        on_register: list[VisitRow] = []
        for row in matched:
            if row.patient.status in FOLLOWED_STATUSES or (row.patient.pk, row.data.followup_date) in stored:
                on_register.append(row)
            else:
                errors.append(RowError(row.row, id_header, _("This patient is no longer on the register; no "
                                                             "follow-up can be recorded.")))
        seen: dict[tuple[int, date], int] = {}
        fresh: list[VisitRow] = []
        for row in on_register:
            key = (row.patient.pk, row.data.followup_date)
            if key in seen:
                errors.append(RowError(row.row, header("followup_date"), _(
                    "Same patient and follow-up date as row %(row)s of this file.") % {"row": seen[key]}))
            elif key in stored:  # skipped even when the patient has left the register since (a re-import)
                seen[key] = row.row
                notes.append([row.row, _("A follow-up of this patient on this date is already recorded: skipped.")])
            else:
                seen[key] = row.row
                fresh.append(row)
        by_patient: dict[int, list[VisitRow]] = defaultdict(list)
        for row in fresh:
            by_patient[row.patient.pk].append(row)
        on_record: dict[int, list[tuple[date, str]]] = defaultdict(list)
        for (patient_id, on), outcome in stored.items():
            on_record[patient_id].append((on, outcome))
        kept: list[VisitRow] = []
        for patient_id, group in by_patient.items():
            history = sorted(visits.get(patient_id, []))
            patient = group[0].patient
            group.sort(key=lambda r: r.data.followup_date)
            good: list[VisitRow] = []
            for row in group:
                problems = self._decide(row, patient, history) if row.data.outcome == "visited" else {}
                for name, message in problems.items():
                    errors.append(RowError(row.row, header(name) if name in COLUMN_BY_KEY else "", message))
                if not problems:
                    good.append(row)
                    if row.data.outcome == "visited":
                        history.append((row.data.followup_date, row.decision["classification"]))
                        history.sort()
            problems_before = len(errors)
            plan = self._plan(patient, good, on_record.get(patient_id, []), errors)
            if len(errors) == problems_before and len(good) == len(group):
                self.plans[patient_id] = plan
                kept += good
        kept.sort(key=lambda r: r.row)
        return kept

    def _decide(self, row: VisitRow, patient: Any, history: list[tuple[date, int]]) -> dict[str, str]:
        """The rules' proposal and the recorded decision of one visit (``followups.services.decide``)."""
        from xinqiao.followups import rules
        from xinqiao.followups.services import rule_input

        data = row.data
        earlier = [cls for on, cls in history if on <= data.followup_date]
        previous: int | None = earlier[-1] if earlier else None
        if previous is None and patient.last_classification and patient.last_followup_date \
                and patient.last_followup_date <= data.followup_date:
            previous = int(patient.last_classification)  # a register imported without its history
        proposal = rules.propose(rule_input(data, previous))
        final = data.classification or proposal.classification
        scheduled = rules.next_followup_date(final, data.followup_date, previous)
        next_date = data.next_followup_date or scheduled
        problems: dict[str, str] = {}
        if next_date <= data.followup_date:
            problems["next_followup_date"] = _("The next follow-up must be after this one.")
        elif next_date > rules.latest_allowed_date(data.followup_date):
            problems["next_followup_date"] = _("The next follow-up must be within %(months)s months (at least 4 "
                                               "follow-ups a year).") % {"months": rules.config().max_interval_months}
        overridden = final != proposal.classification or next_date != proposal.next_followup_date
        reason = data.override_reason.strip()
        if overridden and not reason:
            reason = _("imported as recorded on the original form")
        actions = rules.actions_for(final, int(data.danger_level or 0), previous)
        row.data = replace(data, override_reason=reason if overridden else "")
        row.decision = {
            "previous_classification": previous, "proposed_classification": proposal.classification,
            "proposed_next_date": proposal.next_followup_date, "proposed_actions": list(proposal.actions),
            "classification": final, "next_followup_date": next_date, "actions": list(actions),
            "needs_referral": rules.REFER in actions, "police_notified": False, "overridden": overridden,
        }
        return problems

    def _plan(self, patient: Any, rows: list[VisitRow], on_record: list[tuple[date, str]],
              errors: list[RowError]) -> PatientPlan:
        """The patient after its rows, taken in date order as the form would record them one by one
        (``followups.services._apply_to_patient``); errors go on the rows.

        - A visit not older than the last one sets the work-list columns and ends a streak of failed
          attempts (those on record after it still count); its implicit status change (in hospital,
          back to managed) is skipped when the lifecycle refuses it. Any visit clears "awaiting a
          first visit" from that date and records 肇事/肇祸 history.
        - A failed attempt after the last visit adds one; with a 失访原因 the patient becomes 失访.
        - A death makes the patient 死亡; no row may follow it. Explicit changes the lifecycle
          (``patients.rules``) refuses are errors on the row.
        """
        from xinqiao.followups.codes import Outcome
        from xinqiao.followups.models import INCIDENT_COUNT_FIELDS
        from xinqiao.patients.rules import first_visit_due, status_change_errors

        plan = PatientPlan(patient)
        values = plan.values
        attempts_on_record = [on for on, outcome in on_record if outcome == Outcome.NOT_REACHED]
        status: str = patient.status
        last: date | None = patient.last_followup_date
        failed: int = patient.failed_attempts or 0
        deaths = [r for r in rows if r.data.outcome == Outcome.DEAD]
        for r in rows:
            if deaths and r is not deaths[0] and r.data.followup_date >= deaths[0].data.followup_date:
                errors.append(RowError(r.row, header("followup_date"), _(
                    "Row %(row)s records this patient's death on an earlier date: no follow-up after it.")
                    % {"row": deaths[0].row}))

        def change(row: VisitRow, target: str, explicit: bool, **facts: Any) -> None:
            nonlocal status
            on = row.data.followup_date
            if target == status:
                return
            problems = [code for _name, code in status_change_errors(status, target, {"changed_on": on, **facts},
                                                                     self.today)]
            if on < patient.registered_on:
                problems.append("before_registration")
            if problems:
                if explicit:
                    message = (_("This status change is not allowed from the current status.")
                               if problems[0] == "not_allowed" else
                               _("The change cannot be before the registration.")
                               if problems[0] == "before_registration" else _("This value is not valid."))
                    errors.append(RowError(row.row, header("loss_reason" if target == PatientStatus.LOST
                                                           else "death_date"), message))
                return
            plan.changes.append({
                "from_status": status, "to_status": target, "changed_on": on,
                "loss_reason": facts.get("loss_reason"), "death_date": facts.get("death_date"),
                "death_cause": facts.get("death_cause"), "physical_death_cause": facts.get("physical_death_cause"),
                "note": str(_("imported follow-up record")),
            })
            status = target
            values["status"], values["status_changed_on"] = target, on
            if target == PatientStatus.DEAD:  # as ``patients.services.apply_status_change``
                values.update(next_followup_due=None, awaiting_first_visit_since=None)
            elif target == PatientStatus.MANAGED and values.get("next_followup_due", patient.next_followup_due) is None:
                values["next_followup_due"] = first_visit_due(on)

        for row in rows:
            data, on = row.data, row.data.followup_date
            if data.outcome == Outcome.VISITED:
                if last is None or on >= last:
                    last = on
                    values.update(last_followup_date=on, last_classification=row.decision["classification"],
                                  next_followup_due=row.decision["next_followup_date"], danger_level=data.danger_level)
                    failed = sum(1 for day in attempts_on_record if day > on)
                    if data.hospital_status == HospitalStatus.IN_HOSPITAL:
                        change(row, PatientStatus.IN_HOSPITAL, False)
                    elif status in (PatientStatus.IN_HOSPITAL, PatientStatus.LOST):
                        change(row, PatientStatus.MANAGED, False)
                since = values.get("awaiting_first_visit_since", patient.awaiting_first_visit_since)
                if since is not None and on >= since and status != PatientStatus.DEAD:
                    values["awaiting_first_visit_since"] = None
                if any(getattr(data, name) for name in INCIDENT_COUNT_FIELDS):
                    values["incident_history"] = True
            elif data.outcome == Outcome.NOT_REACHED:
                if last is None or on > last:
                    failed += 1
                if data.loss_reason is not None:
                    change(row, PatientStatus.LOST, True, loss_reason=data.loss_reason)
            else:
                change(row, PatientStatus.DEAD, True, death_date=data.death_date, death_cause=data.death_cause,
                       physical_death_cause=data.physical_death_cause)
        values["failed_attempts"] = failed
        # Notices: the newest imported row, when it is the newest follow-up on record and still current.
        if rows:
            newest = rows[-1]
            newest_on_record = max((day for day, _outcome in on_record), default=None)
            if (newest_on_record is None or newest.data.followup_date > newest_on_record) \
                    and newest.data.outcome == Outcome.VISITED \
                    and newest.decision["next_followup_date"] >= self.today:
                newest.current = True
        return plan

    # --- commit -----------------------------------------------------------------------------------

    def commit(self, rows: list[VisitRow], batch_size: int) -> dict[str, int]:
        from xinqiao.followups import rules
        from xinqiao.followups.codes import Outcome
        from xinqiao.followups.models import FollowUp, FollowUpMedication
        from xinqiao.followups.services import VISIT_FIELDS

        actor_id = self.actor.pk
        organisation_id = getattr(self.actor, "organisation_id", None)
        followups = []
        for row in rows:
            data, patient = row.data, row.patient
            common = {
                "patient_id": patient.pk, "region_id": patient.region_id, "province_code": patient.province_code,
                "city_code": patient.city_code, "county_code": patient.county_code,
                "township_code": patient.township_code, "followup_date": data.followup_date, "outcome": data.outcome,
                "method": data.method, "doctor_name": data.doctor_name.strip()[:64], "organisation_id": organisation_id,
                "created_by_id": actor_id,
            }
            if data.outcome == Outcome.VISITED:
                values = {name: getattr(data, name) for name in VISIT_FIELDS}
                values["symptoms"] = sorted(set(data.symptoms))
                values["rehab_measures"] = sorted(set(data.rehab_measures))
                decision = {k: v for k, v in row.decision.items() if k != "overridden"}
                decision["police_notified"] = row.current and rules.NOTIFY_POLICE in decision["actions"]
                followups.append(FollowUp(**common, override_reason=data.override_reason, **values, **decision))
            elif data.outcome == Outcome.NOT_REACHED:
                followups.append(FollowUp(**common, not_reached_reason=data.not_reached_reason.strip(),
                                          loss_reason=data.loss_reason))
            else:
                followups.append(FollowUp(**common, death_date=data.death_date, death_cause=data.death_cause,
                                          physical_death_cause=data.physical_death_cause))
        FollowUp.objects.bulk_create(followups, batch_size=batch_size)
        lines = []
        for row, fu in zip(rows, followups, strict=True):
            for line in row.data.medications:
                drug = self.catalogue.get(line.drug_name)
                lines.append(FollowUpMedication(followup_id=fu.pk, drug_id=drug[0] if drug else None,
                                                drug_name=line.drug_name, times=line.times, period=line.period,
                                                dose=line.dose, unit=line.unit))
        FollowUpMedication.objects.bulk_create(lines, batch_size=batch_size)
        changed, status_changes = self._update_patients(rows)
        referrals = self._referrals(rows, followups)
        police = [fu.pk for fu in followups if fu.police_notified]
        patient_ids = sorted(self.plans)
        outcomes = [row.data.outcome for row in rows]
        transaction.on_commit(lambda: _send_notices(police, patient_ids, self.today))
        return {"created": len(followups), "medications": len(lines), "patients_updated": changed,
                "status_changes": status_changes, "visits": outcomes.count(Outcome.VISITED),
                "not_reached": outcomes.count(Outcome.NOT_REACHED), "deaths": outcomes.count(Outcome.DEAD),
                "overridden": sum(1 for row in rows if row.decision.get("overridden")),
                "police_informed": len(police), "referrals_opened": referrals}

    def _referrals(self, rows: list[VisitRow], followups: list[Any]) -> int:
        """Open the referral of each current visit whose decision says ``refer`` (as the form does),
        inside the import's transaction; returns how many were opened."""
        from xinqiao.followups import rules
        from xinqiao.referrals.services import refer_from_followup

        opened = 0
        for row, fu in zip(rows, followups, strict=True):
            if row.current and rules.REFER in row.decision.get("actions", ()):
                opened += refer_from_followup(self.actor, fu, row.patient, urgent=fu.police_notified).created
        return opened

    def _update_patients(self, rows: list[VisitRow]) -> tuple[int, int]:
        """Apply each patient's plan: work-list columns and status (bulk), the status history rows."""
        from xinqiao.patients.models import Patient, StatusChange

        now = timezone.now()
        changed: list[Any] = []
        history: list[Any] = []
        fields: set[str] = {"updated_at"}
        for plan in (self.plans[pid] for pid in sorted({row.patient.pk for row in rows})):
            patient = plan.patient
            for name, value in plan.values.items():
                setattr(patient, name, value)
                fields.add(name)
            patient.updated_at = now
            changed.append(patient)
            history += [StatusChange(
                patient_id=patient.pk, region_id=patient.region_id, province_code=patient.province_code,
                city_code=patient.city_code, county_code=patient.county_code, township_code=patient.township_code,
                created_by_id=self.actor.pk, **change) for change in plan.changes]
        Patient.objects.bulk_update(changed, sorted(fields), batch_size=500)
        StatusChange.objects.bulk_create(history, batch_size=500)
        return len(changed), len(history)


def _send_notices(police: list[int], patients: list[int], today: date) -> None:
    """After commit: the notices the form would send (``followups.tasks``; a worker's job with Redis)."""
    from xinqiao.followups.tasks import send_import_notices

    send_import_notices.delay(police, patients, today.isoformat())
