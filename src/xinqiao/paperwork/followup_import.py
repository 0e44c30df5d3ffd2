"""Importing follow-up records (随访服务记录表) of registered patients from a spreadsheet.

One row is one visit (a follow-up at which the patient was seen: ``Outcome.VISITED``), as kept on
paper or in an earlier system, for a patient already on a register in the importer's region,
found by ID number through the blind index. Every field and code is that of the national form
(DOMAIN.md §4); the per-row rules are ``followups.services.followup_errors`` (required items,
codes, "other" needs a text, a referral needs reason and institution, …), the same as on the
phone form.

Classification and next date: the national rules (``followups.rules.propose``) run on every row,
with the previous classification taken from the patient's earlier visits — those already stored
and the earlier rows of the same file. A blank classification or next date takes the proposal;
a recorded one that departs from it is kept (it is what the doctor decided at the time) with the
reason given in the file, or "imported as recorded" when none is. The next date must still fall
after the visit and within the national maximum interval.

Re-import: a visit of the same patient on the same date is skipped (already present); the same
patient and date twice in one file is an error. The commit stores the visits and their
medication with ``bulk_create`` and brings each patient's work-list columns and status up to date
the way ``followups.services.record_followup`` does for its latest visit. Imported history does
not notify the police (the notices are for new events).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

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
    FollowUpMethod,
    HospitalStatus,
    Insight,
    LockStatus,
    PatientStatus,
    Rating,
    RehabMeasure,
    Symptom,
    TreatmentEffect,
)

MEDICATION_LINES = 3
WORK_CHOICES = [*Rating.choices, (9, pgettext_lazy("spreadsheet", "not applicable"))]


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
    Column("method", pgettext_lazy("spreadsheet", "Follow-up method"), CODE, required=True, choices=FollowUpMethod, example="2"),
    Column("danger_level", pgettext_lazy("spreadsheet", "Danger level"), CODE, required=True, choices=DangerLevel, example="0"),
    Column("symptoms", pgettext_lazy("spreadsheet", "Current symptoms"), CODES, choices=Symptom, example="10,11",
           hint=pgettext_lazy("spreadsheet", "Several codes separated by commas; blank for none.")),
    Column("symptoms_marked", pgettext_lazy("spreadsheet", "Marked psychotic symptoms"), BOOL, example="否"),
    Column("symptoms_other", pgettext_lazy("spreadsheet", "Other symptoms"), max_length=200),
    Column("insight", pgettext_lazy("spreadsheet", "Insight"), CODE, required=True, choices=Insight, example="2"),
    Column("sleep", pgettext_lazy("spreadsheet", "Sleep"), CODE, required=True, choices=Rating, example="1"),
    Column("diet", pgettext_lazy("spreadsheet", "Diet"), CODE, required=True, choices=Rating, example="1"),
    Column("self_care", pgettext_lazy("spreadsheet", "Personal self-care"), CODE, required=True, choices=Rating, example="1"),
    Column("housework", pgettext_lazy("spreadsheet", "Housework"), CODE, required=True, choices=Rating, example="2"),
    Column("work", pgettext_lazy("spreadsheet", "Productive work"), CODE, required=True, choices=WORK_CHOICES, example="9"),
    Column("study", pgettext_lazy("spreadsheet", "Learning ability"), CODE, required=True, choices=Rating, example="2"),
    Column("social", pgettext_lazy("spreadsheet", "Social contact"), CODE, required=True, choices=Rating, example="2"),
    Column("minor_trouble_count", pgettext_lazy("spreadsheet", "Minor trouble-making (times)"), COUNT),
    Column("trouble_count", pgettext_lazy("spreadsheet", "Causing trouble (times)"), COUNT),
    Column("disaster_count", pgettext_lazy("spreadsheet", "Causing a disaster (times)"), COUNT),
    Column("other_harm_count", pgettext_lazy("spreadsheet", "Other harmful behaviour (times)"), COUNT),
    Column("self_harm_count", pgettext_lazy("spreadsheet", "Self-harm (times)"), COUNT),
    Column("suicide_attempt_count", pgettext_lazy("spreadsheet", "Attempted suicide (times)"), COUNT),
    Column("lock_status", pgettext_lazy("spreadsheet", "Locking up"), CODE, required=True, choices=LockStatus, example="1"),
    Column("hospital_status", pgettext_lazy("spreadsheet", "Hospitalisation"), CODE, required=True, choices=HospitalStatus, example="0"),
    Column("last_discharge_date", pgettext_lazy("spreadsheet", "Last discharge"), DATE),
    Column("lab_tests", pgettext_lazy("spreadsheet", "Laboratory tests"), CODE, required=True, choices=_presence(), example="1"),
    Column("lab_tests_text", pgettext_lazy("spreadsheet", "Laboratory results"), max_length=500),
    Column("adherence", pgettext_lazy("spreadsheet", "Medication adherence"), CODE, required=True, choices=Adherence, example="1"),
    Column("adverse_reaction", pgettext_lazy("spreadsheet", "Adverse drug reaction"), CODE, required=True, choices=_presence(), example="1"),
    Column("adverse_reaction_text", pgettext_lazy("spreadsheet", "Adverse reaction"), max_length=500),
    Column("adverse_reaction_serious", pgettext_lazy("spreadsheet", "Serious adverse reaction"), BOOL),
    Column("physical_illness_serious", pgettext_lazy("spreadsheet", "Serious physical illness"), BOOL),
    Column("physical_illness_text", pgettext_lazy("spreadsheet", "Physical illness"), max_length=500),
    Column("treatment_effect", pgettext_lazy("spreadsheet", "Treatment effect"), CODE, required=True, choices=TreatmentEffect, example="2"),
    Column("referral", pgettext_lazy("spreadsheet", "Referral"), CODE, required=True, choices=_yes_no(), example="1"),
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
               "override_reason")
#: Stands in for the patient in the row checks; the real patient (and its status) is checked per file.
ANY_PATIENT = SimpleNamespace(status=PatientStatus.MANAGED)


def header(key: str) -> str:
    return str(COLUMN_BY_KEY[key].header)


@dataclass
class VisitRow:
    """A row that passed its own checks."""

    row: int
    data: Any  # followups.services.FollowUpInput
    index: str
    drugs: list[str] = field(default_factory=list)
    patient: Any = None
    decision: dict[str, Any] = field(default_factory=dict)


class FollowUpImport:
    """Validate and commit a sheet of follow-up visits."""

    columns = COLUMNS

    def __init__(self, actor: Any) -> None:
        from xinqiao.followups.models import MedicationCatalogue

        self.actor = actor
        self.today = timezone.localdate()
        self.catalogue = {name: (pk, period, unit) for name, pk, period, unit in MedicationCatalogue.objects.values_list(
            "generic_name_zh", "id", "default_period", "default_unit")}

    # --- one row ----------------------------------------------------------------------------------

    def check_row(self, number: int, values: dict[str, Any], errors: list[RowError]) -> VisitRow | None:
        from xinqiao.followups.services import FollowUpInput, MedicationInput, followup_errors

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
        lines: list[Any] = []
        names: list[str] = []
        for n in range(1, MEDICATION_LINES + 1):
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
            followup_date=followup_date, method=values.get("method"), danger_level=values.get("danger_level"),
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
        reported = set()  # columns whose cell was already refused (missing, bad code): one message each
        for earlier in reversed(errors):
            if earlier.row != number:
                break
            reported.add(earlier.column)
        for key, message in followup_errors(ANY_PATIENT, data, self.today).items():  # type: ignore[arg-type]
            if key.startswith("medications."):
                _prefix, position, part = key.split(".", 2)
                key = f"drug{int(position) + 1}_{'name' if part.startswith('drug') else part}"
            if key in COLUMN_BY_KEY and header(key) in reported:
                continue
            error(key, message)
        if len(errors) > start:
            return None
        return VisitRow(row=number, data=data, index=index, drugs=names)

    # --- the file ---------------------------------------------------------------------------------

    def check_duplicates(self, rows: list[VisitRow], errors: list[RowError], notes: list[list[Any]]) -> list[VisitRow]:
        """Find each row's patient (in the importer's region), drop visits already stored, run the rules."""
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
            elif patient.status not in FOLLOWED_STATUSES:
                errors.append(RowError(row.row, id_header, _("This patient is no longer on the register; no "
                                                             "follow-up can be recorded.")))
            else:
                row.patient = patient
                matched.append(row)
        ids = list({row.patient.pk for row in matched})
        stored: set[tuple[int, date]] = set()
        visits: dict[int, list[tuple[date, int]]] = defaultdict(list)
        for start in range(0, len(ids), 2000):
            for patient_id, on, outcome, classification in FollowUp.objects.filter(
                    patient_id__in=ids[start:start + 2000]).values_list("patient_id", "followup_date", "outcome",
                                                                         "classification"):
                stored.add((patient_id, on))
                if outcome == "visited" and classification is not None:
                    visits[patient_id].append((on, classification))
        seen: dict[tuple[int, date], int] = {}
        fresh: list[VisitRow] = []
        for row in matched:
            key = (row.patient.pk, row.data.followup_date)
            if key in seen:
                errors.append(RowError(row.row, header("followup_date"), _(
                    "Same patient and follow-up date as row %(row)s of this file.") % {"row": seen[key]}))
            elif key in stored:
                seen[key] = row.row
                notes.append([row.row, _("A follow-up of this patient on this date is already recorded: skipped.")])
            else:
                seen[key] = row.row
                fresh.append(row)
        by_patient: dict[int, list[VisitRow]] = defaultdict(list)
        for row in fresh:
            by_patient[row.patient.pk].append(row)
        kept: list[VisitRow] = []
        for patient_id, group in by_patient.items():
            history = sorted(visits.get(patient_id, []))
            patient = group[0].patient
            for row in sorted(group, key=lambda r: r.data.followup_date):
                problems = self._decide(row, patient, history)
                for name, message in problems.items():
                    errors.append(RowError(row.row, header(name) if name in COLUMN_BY_KEY else "", message))
                if not problems:
                    kept.append(row)
                    history.append((row.data.followup_date, row.decision["classification"]))
                    history.sort()
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

    # --- commit -----------------------------------------------------------------------------------

    def commit(self, rows: list[VisitRow], batch_size: int) -> dict[str, int]:
        from xinqiao.followups.codes import Outcome
        from xinqiao.followups.models import FollowUp, FollowUpMedication
        from xinqiao.followups.services import VISIT_FIELDS

        actor_id = self.actor.pk
        organisation_id = getattr(self.actor, "organisation_id", None)
        followups = []
        for row in rows:
            data, patient = row.data, row.patient
            values = {name: getattr(data, name) for name in VISIT_FIELDS}
            values["symptoms"] = sorted(set(data.symptoms))
            values["rehab_measures"] = sorted(set(data.rehab_measures))
            decision = {k: v for k, v in row.decision.items() if k != "overridden"}
            followups.append(FollowUp(
                patient_id=patient.pk, region_id=patient.region_id, province_code=patient.province_code,
                city_code=patient.city_code, county_code=patient.county_code, township_code=patient.township_code,
                followup_date=data.followup_date, outcome=Outcome.VISITED, method=data.method,
                doctor_name=data.doctor_name.strip()[:64], organisation_id=organisation_id,
                override_reason=data.override_reason, created_by_id=actor_id, **values, **decision,
            ))
        FollowUp.objects.bulk_create(followups, batch_size=batch_size)
        lines = []
        for row, fu in zip(rows, followups, strict=True):
            for line in row.data.medications:
                drug = self.catalogue.get(line.drug_name)
                lines.append(FollowUpMedication(followup_id=fu.pk, drug_id=drug[0] if drug else None,
                                                drug_name=line.drug_name, times=line.times, period=line.period,
                                                dose=line.dose, unit=line.unit))
        FollowUpMedication.objects.bulk_create(lines, batch_size=batch_size)
        changed, status_changes = self._update_patients(rows, followups)
        return {"created": len(followups), "medications": len(lines), "patients_updated": changed,
                "status_changes": status_changes,
                "overridden": sum(1 for row in rows if row.decision["overridden"])}

    def _update_patients(self, rows: list[VisitRow], followups: list[Any]) -> tuple[int, int]:
        """Each patient's work-list columns and status after its latest imported visit (as ``record_followup``)."""
        from xinqiao.followups.models import INCIDENT_COUNT_FIELDS
        from xinqiao.patients.models import Patient, StatusChange
        from xinqiao.patients.rules import status_change_errors

        latest: dict[int, tuple[VisitRow, Any]] = {}
        incident: set[int] = set()
        for row, fu in zip(rows, followups, strict=True):
            pid = row.patient.pk
            if pid not in latest or fu.followup_date > latest[pid][1].followup_date:
                latest[pid] = (row, fu)
            if any(getattr(fu, name) for name in INCIDENT_COUNT_FIELDS):
                incident.add(pid)
        fields = ["last_followup_date", "last_classification", "next_followup_due", "danger_level", "failed_attempts",
                  "awaiting_first_visit_since", "incident_history", "status", "status_changed_on", "updated_at"]
        now = timezone.now()
        changed: list[Any] = []
        history: list[Any] = []
        for pid, (row, fu) in latest.items():
            patient = row.patient
            if patient.last_followup_date is None or fu.followup_date >= patient.last_followup_date:
                patient.last_followup_date = fu.followup_date
                patient.last_classification = fu.classification
                patient.next_followup_due = fu.next_followup_date
                patient.danger_level = fu.danger_level
                patient.failed_attempts = 0
                target = None
                if fu.hospital_status == HospitalStatus.IN_HOSPITAL:
                    target = PatientStatus.IN_HOSPITAL
                elif patient.status in (PatientStatus.IN_HOSPITAL, PatientStatus.LOST):
                    target = PatientStatus.MANAGED
                facts = {"changed_on": fu.followup_date}
                if target and target != patient.status and not status_change_errors(
                        patient.status, target, facts, self.today):
                    history.append(StatusChange(
                        patient_id=pid, region_id=patient.region_id, province_code=patient.province_code,
                        city_code=patient.city_code, county_code=patient.county_code,
                        township_code=patient.township_code, from_status=patient.status, to_status=target,
                        changed_on=fu.followup_date, note=_("imported follow-up record"), created_by_id=self.actor.pk))
                    patient.status = target
                    patient.status_changed_on = fu.followup_date
            if patient.awaiting_first_visit_since is not None and fu.followup_date >= patient.awaiting_first_visit_since:
                patient.awaiting_first_visit_since = None
            if pid in incident:
                patient.incident_history = True
            patient.updated_at = now
            changed.append(patient)
        Patient.objects.bulk_update(changed, fields, batch_size=500)
        StatusChange.objects.bulk_create(history, batch_size=500)
        return len(changed), len(history)
