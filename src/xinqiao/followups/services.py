"""Writes of the followups app: recording a follow-up, a health check, a discharge; the engine's live proposal.

``record_followup`` is the heart (STYLE.md 2, Zulip's named actions): one transaction that checks
permission and scope, validates every field of the 随访服务记录表 (errors name the field, in the
user's language), runs the national rules (``rules.propose``), applies the doctor's decision (an
override needs a stated reason), stores the follow-up with its medication and participants, keeps
the patient's work-list columns current, changes the patient's status where the form says so
(death, 失访, admission, discharge), audits, opens the two-way referral when the decision says
``refer`` (``referrals.services.refer_from_followup``, same transaction; ``referral_of`` shows it),
and — after commit — informs the police of the township when the danger level calls for it. A retry with the same submission key stores nothing
new. ``record_discharge`` and ``record_health_check`` follow the same pattern.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinqiao.core import audit
from xinqiao.core.models import AuditAction, Organisation, User
from xinqiao.core.notifications import Notice, notify_many
from xinqiao.core.scope import in_scope, permission_for
from xinqiao.followups import rules
from xinqiao.followups.codes import DoseUnit, FrequencyPeriod, Outcome, ParticipantRole, Presence, YesNo
from xinqiao.followups.models import (
    BEHAVIOUR_COUNT_FIELDS,
    INCIDENT_COUNT_FIELDS,
    SOCIAL_FUNCTION_FIELDS,
    DischargeMedication,
    DischargeRecord,
    FollowUp,
    FollowUpMedication,
    FollowUpParticipant,
    HealthCheck,
    MedicationCatalogue,
)
from xinqiao.patients import services as patient_services
from xinqiao.patients.codes import (
    NOT_APPLICABLE,
    Adherence,
    DeathCause,
    Diagnosis,
    FollowUpMethod,
    HospitalStatus,
    Insight,
    LatestTreatmentEffect,
    LockStatus,
    LossReason,
    PatientStatus,
    PhysicalDeathCause,
    Rating,
    RehabMeasure,
    Symptom,
    TreatmentEffect,
)
from xinqiao.patients.models import Patient
from xinqiao.patients.rules import status_change_errors, time_limits
from xinqiao.patients.services import StatusInput
from xinqiao.patients.workdays import add_working_days
from xinqiao.referrals import services as referral_services

#: Statuses under which follow-ups are recorded (on the register, not deregistered).
FOLLOWED_STATUSES: frozenset[str] = frozenset({PatientStatus.MANAGED, PatientStatus.IN_HOSPITAL, PatientStatus.LOST})
MIN_REASON_LENGTH = 4
MAX_COUNT = 999
MAX_TIMES = {FrequencyPeriod.DAY: 12, FrequencyPeriod.MONTH: 31}


def _stored_language() -> Any:
    """Notices are stored text: write them in the deployment's language, whoever triggered them."""
    return translation.override(settings.LANGUAGE_CODE)


def _link(name: str, **kwargs: Any) -> str:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""


# --------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MedicationInput:
    """One line of 用药情况 / 用药指导: a catalogue drug (``drug_id``) or a drug written by name."""

    times: int
    dose: Decimal
    drug_id: int | None = None
    drug_name: str = ""
    period: str = FrequencyPeriod.DAY
    unit: str = DoseUnit.MG


@dataclass(frozen=True)
class ParticipantInput:
    """One participant of a joint follow-up: a user of the platform, or a named person."""

    role: str
    user_id: int | None = None
    name: str = ""


@dataclass(frozen=True)
class FollowUpInput:
    """One 随访服务记录表 as entered; field names match ``FollowUp``.

    ``classification`` / ``next_followup_date`` left ``None`` accept the engine's proposal; a
    different value needs ``override_reason``.
    """

    followup_date: date
    outcome: str = Outcome.VISITED
    method: int | None = None
    not_reached_reason: str = ""
    loss_reason: int | None = None
    death_date: date | None = None
    death_cause: int | None = None
    physical_death_cause: int | None = None
    danger_level: int | None = None
    symptoms: Sequence[int] = ()
    symptoms_marked: bool = False
    symptoms_other: str = ""
    insight: int | None = None
    sleep: int | None = None
    diet: int | None = None
    self_care: int | None = None
    housework: int | None = None
    work: int | None = None
    study: int | None = None
    social: int | None = None
    minor_trouble_count: int = 0
    trouble_count: int = 0
    disaster_count: int = 0
    other_harm_count: int = 0
    self_harm_count: int = 0
    suicide_attempt_count: int = 0
    lock_status: int | None = None
    hospital_status: int | None = None
    last_discharge_date: date | None = None
    lab_tests: int | None = None
    lab_tests_text: str = ""
    adherence: int | None = None
    adverse_reaction: int | None = None
    adverse_reaction_text: str = ""
    adverse_reaction_serious: bool = False
    physical_illness_serious: bool = False
    physical_illness_text: str = ""
    treatment_effect: int | None = None
    referral: int | None = None
    referral_reason: str = ""
    referral_institution: str = ""
    referral_department: str = ""
    rehab_measures: Sequence[int] = ()
    rehab_other: str = ""
    classification: int | None = None
    next_followup_date: date | None = None
    override_reason: str = ""
    medications: Sequence[MedicationInput] = ()
    participants: Sequence[ParticipantInput] = ()
    doctor_name: str = ""


#: Fields stored only for a visit (cleared on a failed attempt or a death).
VISIT_FIELDS: tuple[str, ...] = (
    "danger_level", "symptoms", "symptoms_marked", "symptoms_other", "insight", "sleep", "diet",
    *SOCIAL_FUNCTION_FIELDS, *BEHAVIOUR_COUNT_FIELDS, "lock_status", "hospital_status", "last_discharge_date",
    "lab_tests", "lab_tests_text", "adherence", "adverse_reaction", "adverse_reaction_text",
    "adverse_reaction_serious", "physical_illness_serious", "physical_illness_text", "treatment_effect",
    "referral", "referral_reason", "referral_institution", "referral_department", "rehab_measures", "rehab_other",
)
#: Coded single-choice items a visit must answer, with their allowed codes.
REQUIRED_CODED: dict[str, tuple[int, ...]] = {
    "method": tuple(FollowUpMethod.values),
    "danger_level": tuple(range(6)),
    "insight": tuple(Insight.values),
    "sleep": tuple(Rating.values),
    "diet": tuple(Rating.values),
    **{item: tuple(Rating.values) + ((NOT_APPLICABLE,) if item == "work" else ()) for item in SOCIAL_FUNCTION_FIELDS},
    "lock_status": tuple(LockStatus.values),
    "hospital_status": tuple(HospitalStatus.values),
    "lab_tests": tuple(Presence.values),
    "adherence": tuple(Adherence.values),
    "adverse_reaction": tuple(Presence.values),
    "treatment_effect": tuple(TreatmentEffect.values),
    "referral": tuple(YesNo.values),
}


# --------------------------------------------------------------------------------------------------
# Validation (errors name the field, in the user's language)
# --------------------------------------------------------------------------------------------------

def _required() -> str:
    return _("This field is required.")


def _choice() -> str:
    return _("Choose one of the options.")


def _codes_errors(name: str, values: Sequence[int], allowed: Sequence[int]) -> dict[str, str]:
    if any(not isinstance(v, int) or isinstance(v, bool) or v not in allowed for v in values):
        return {name: _("Choose among the listed options.")}
    if len(set(values)) != len(values):
        return {name: _("An option is ticked twice.")}
    return {}


def medication_errors(lines: Sequence[MedicationInput], prefix: str = "medications") -> tuple[dict[str, str], dict[int, Any]]:
    """Errors of medication lines (``medications.<n>.<field>``) and the catalogue rows they name."""
    errors: dict[str, str] = {}
    wanted = {line.drug_id for line in lines if line.drug_id is not None}
    drugs = {d.pk: d for d in MedicationCatalogue.objects.filter(pk__in=wanted)} if wanted else {}
    for n, line in enumerate(lines):
        at = f"{prefix}.{n}"
        if line.drug_id is not None and line.drug_id not in drugs:
            errors[f"{at}.drug_id"] = _("Choose a drug from the catalogue.")
        elif line.drug_id is None and not line.drug_name.strip():
            errors[f"{at}.drug_name"] = _("Choose a drug or write its name.")
        if line.period not in FrequencyPeriod.values:
            errors[f"{at}.period"] = _choice()
        elif not isinstance(line.times, int) or not 1 <= line.times <= MAX_TIMES[FrequencyPeriod(line.period)]:
            errors[f"{at}.times"] = _("Enter how many times, from 1 to %(max)s.") % {
                "max": MAX_TIMES[FrequencyPeriod(line.period)]}
        if line.unit not in DoseUnit.values:
            errors[f"{at}.unit"] = _choice()
        if not isinstance(line.dose, Decimal) or not Decimal("0") < line.dose < Decimal("100000"):
            errors[f"{at}.dose"] = _("Enter a dose greater than 0.")
    return errors, drugs


def _participant_errors(lines: Sequence[ParticipantInput]) -> tuple[dict[str, str], dict[int, Any]]:
    errors: dict[str, str] = {}
    wanted = {p.user_id for p in lines if p.user_id is not None}
    users = {u.pk: u for u in User.objects.filter(pk__in=wanted, is_active=True)} if wanted else {}
    for n, line in enumerate(lines):
        at = f"participants.{n}"
        if line.role not in ParticipantRole.values:
            errors[f"{at}.role"] = _choice()
        if line.user_id is not None and line.user_id not in users:
            errors[f"{at}.user_id"] = _("No such active user.")
        elif line.user_id is None and not line.name.strip():
            errors[f"{at}.name"] = _("Give the participant's name.")
    return errors, users


def _death_errors(data: Any, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.death_date is None:
        errors["death_date"] = _required()
    elif data.death_date > today:
        errors["death_date"] = _("The date cannot be in the future.")
    if data.death_cause not in DeathCause.values:
        errors["death_cause"] = _required() if data.death_cause is None else _choice()
    elif data.death_cause == DeathCause.PHYSICAL and data.physical_death_cause not in PhysicalDeathCause.values:
        errors["physical_death_cause"] = _("Give the physical illness for a death from physical illness.")
    if data.physical_death_cause is not None and data.death_cause != DeathCause.PHYSICAL:
        errors["physical_death_cause"] = _("Only a death from physical illness (cause 1) takes this sub-code.")
    return errors


def _visit_errors(data: FollowUpInput) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, allowed in REQUIRED_CODED.items():
        value = getattr(data, name)
        if value is None:
            errors[name] = _required()
        elif not isinstance(value, int) or isinstance(value, bool) or value not in allowed:
            errors[name] = _choice()
    errors.update(_codes_errors("symptoms", list(data.symptoms), Symptom.values))
    if Symptom.OTHER in data.symptoms and not data.symptoms_other.strip():
        errors["symptoms_other"] = _("Describe the other symptoms.")
    errors.update(_codes_errors("rehab_measures", list(data.rehab_measures), RehabMeasure.values))
    if RehabMeasure.OTHER in data.rehab_measures and not data.rehab_other.strip():
        errors["rehab_other"] = _("Describe the other rehabilitation measure.")
    for name in BEHAVIOUR_COUNT_FIELDS:
        value = getattr(data, name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
            errors[name] = _("Enter a count from 0 to %(max)s.") % {"max": MAX_COUNT}
    if data.last_discharge_date is not None and data.last_discharge_date > data.followup_date:
        errors["last_discharge_date"] = _("The last discharge cannot be after the follow-up.")
    if data.hospital_status == HospitalStatus.BEFORE and data.last_discharge_date is None:
        errors["last_discharge_date"] = _("Give the date of the last discharge.")
    if data.lab_tests == Presence.YES and not data.lab_tests_text.strip():
        errors["lab_tests_text"] = _("Give the laboratory results.")
    if data.adverse_reaction == Presence.YES and not data.adverse_reaction_text.strip():
        errors["adverse_reaction_text"] = _("Describe the adverse reaction.")
    if data.adverse_reaction_serious and data.adverse_reaction != Presence.YES:
        errors["adverse_reaction_serious"] = _("A serious adverse reaction needs 'adverse drug reaction: present'.")
    if data.referral == YesNo.YES:
        if not data.referral_reason.strip():
            errors["referral_reason"] = _("Give the reason for the referral.")
        if not data.referral_institution.strip():
            errors["referral_institution"] = _("Give the institution referred to.")
    return errors


def followup_errors(patient: Patient, data: FollowUpInput, today: date) -> dict[str, str]:
    """Every problem of a follow-up form except the override (which needs the proposal)."""
    errors: dict[str, str] = {}
    if patient.status not in FOLLOWED_STATUSES:
        errors["patient"] = _("This patient is no longer on the register; no follow-up can be recorded.")
    if data.followup_date is None:
        errors["followup_date"] = _required()
    elif data.followup_date > today:
        errors["followup_date"] = _("The date cannot be in the future.")
    if data.outcome not in Outcome.values:
        errors["outcome"] = _choice()
        return errors
    if data.outcome in (Outcome.VISITED, Outcome.NOT_REACHED) and data.method not in FollowUpMethod.values:
        errors["method"] = _required() if data.method is None else _choice()
    if data.outcome == Outcome.NOT_REACHED:
        if not data.not_reached_reason.strip():
            errors["not_reached_reason"] = _("Say why the patient was not reached.")
        if data.loss_reason is not None and data.loss_reason not in LossReason.values:
            errors["loss_reason"] = _choice()
    elif data.outcome == Outcome.DEAD:
        errors.update(_death_errors(data, today))
    elif data.followup_date is not None:
        errors.update(_visit_errors(data))
    if data.outcome == Outcome.VISITED:
        errors.update(medication_errors(data.medications)[0])
    errors.update(_participant_errors(data.participants)[0])
    return errors


# --------------------------------------------------------------------------------------------------
# The engine on a form
# --------------------------------------------------------------------------------------------------

def previous_classification(patient: Patient, before: date) -> int | None:
    """The class of the patient's last visit on or before ``before`` (what "previous" means to the rules)."""
    row = (FollowUp.objects.filter(patient=patient, outcome=Outcome.VISITED, followup_date__lte=before)
           .exclude(classification=None).order_by("-followup_date", "-id").values_list("classification", flat=True)[:1])
    found = list(row)
    if found:
        return int(found[0])
    # A register imported without its history keeps the last class on the patient row only.
    if patient.last_classification and patient.last_followup_date and patient.last_followup_date <= before:
        return int(patient.last_classification)
    return None


def rule_input(data: FollowUpInput, previous: int | None) -> rules.RuleInput:
    """The engine's input from a validated visit."""
    return rules.RuleInput(
        followup_date=data.followup_date,
        danger_level=int(data.danger_level or 0),
        insight=int(data.insight or rules.INSIGHT_COMPLETE),
        symptoms=tuple(sorted(set(data.symptoms))),
        symptoms_marked=bool(data.symptoms_marked),
        social_function={item: int(getattr(data, item) or rules.RATING_GOOD) for item in SOCIAL_FUNCTION_FIELDS},
        adverse_reaction_serious=bool(data.adverse_reaction_serious),
        physical_illness_serious=bool(data.physical_illness_serious),
        previous_classification=previous,
    )


@dataclass(frozen=True)
class Decision:
    """The engine's proposal and the doctor's decision for one visit."""

    proposal: rules.Proposal
    previous: int | None
    classification: int
    next_followup_date: date
    actions: tuple[str, ...]
    overridden: bool
    errors: dict[str, str] = field(default_factory=dict)


_LOOK_UP = object()


def decide(patient: Patient, data: FollowUpInput, *, previous: Any = _LOOK_UP) -> Decision:
    """Run the rules on a visit and apply the doctor's choices; ``errors`` holds override problems.

    ``previous`` is the classification of the visit before this one, looked up when not given (a
    correction gives it, because a stored visit must not count as its own previous one).
    """
    if previous is _LOOK_UP:
        previous = previous_classification(patient, data.followup_date)
    proposal = rules.propose(rule_input(data, previous))
    final = data.classification or proposal.classification
    errors: dict[str, str] = {}
    if final not in rules.CLASSIFICATIONS:
        errors["classification"] = _choice()
        final = proposal.classification
    scheduled = rules.next_followup_date(final, data.followup_date, previous)
    next_date = data.next_followup_date or scheduled
    if next_date <= data.followup_date:
        errors["next_followup_date"] = _("The next follow-up must be after this one.")
    elif next_date > rules.latest_allowed_date(data.followup_date):
        errors["next_followup_date"] = _("The next follow-up must be within %(months)s months "
                                         "(at least 4 follow-ups a year).") % {
            "months": rules.config().max_interval_months}
    overridden = final != proposal.classification or next_date != proposal.next_followup_date
    departs = final != proposal.classification or next_date != scheduled
    if departs and len(data.override_reason.strip()) < MIN_REASON_LENGTH:
        errors["override_reason"] = _("State why you depart from the proposal (at least 4 characters).")
    actions = rules.actions_for(final, int(data.danger_level or 0), previous)
    return Decision(proposal, previous, final, next_date, actions, overridden, errors)


def apply_decision(fu: FollowUp, decision: Decision, data: FollowUpInput, *, police_notified: bool = False) -> None:
    """Write a visit's decision on the follow-up (unsaved); raises ``ValidationError`` on its errors.

    ``police_notified`` keeps an earlier notification (a correction never un-informs the police).
    """
    if decision.errors:
        raise ValidationError(decision.errors)
    fu.previous_classification = decision.previous
    fu.proposed_classification = decision.proposal.classification
    fu.proposed_next_date = decision.proposal.next_followup_date
    fu.proposed_actions = list(decision.proposal.actions)
    fu.classification = decision.classification
    fu.next_followup_date = decision.next_followup_date
    fu.actions = list(decision.actions)
    fu.override_reason = data.override_reason.strip() if decision.overridden else ""
    fu.needs_referral = rules.REFER in decision.actions
    fu.police_notified = police_notified or rules.NOTIFY_POLICE in decision.actions


def propose_for(patient: Patient, data: FollowUpInput) -> rules.Proposal | None:
    """The engine's proposal for a (possibly incomplete) visit on the form; ``None`` while the items
    the rules need are missing."""
    needed = ("danger_level", "insight", *SOCIAL_FUNCTION_FIELDS)
    if data.outcome != Outcome.VISITED or data.followup_date is None or any(getattr(data, n) is None for n in needed):
        return None
    return rules.propose(rule_input(data, previous_classification(patient, data.followup_date)))


# --------------------------------------------------------------------------------------------------
# Recording a follow-up
# --------------------------------------------------------------------------------------------------

def _check_actor(actor: Any, model: Any, patient: Patient) -> None:
    if not actor.has_perm(permission_for(model, "add")):
        raise PermissionDenied
    if not in_scope(actor, patient.township_code):
        raise PermissionDenied


def _existing(model: Any, key: str, patient: Patient) -> Any:
    if not key:
        return None
    found = model.objects.filter(submission_key=key).first()
    if found is not None and found.patient_id != patient.pk:
        raise ValidationError({"Idempotency-Key": _("This key was already used for another patient.")})
    return found


def _status_change(actor: Any, patient: Patient, target: str, on: date, *, explicit: bool, **facts: Any) -> bool:
    """Move the patient to ``target`` through the register's lifecycle (``patients.services.apply_status_change``:
    history row, audit, and the work-list columns it owns). Returns whether the status changed.

    ``explicit`` changes are what the form says (death, 失访): a change the lifecycle refuses is an
    error on the form's field. Implicit ones (admitted, discharged, visited again after 失访) are
    skipped when the lifecycle does not allow them, never forced.
    """
    if patient.status == target:
        return False
    if not explicit and status_change_errors(patient.status, target, {"changed_on": on, **facts},
                                             timezone.localdate()):
        return False
    try:
        patient_services.apply_status_change(patient, StatusInput(to_status=target, changed_on=on, **facts),
                                             actor=actor)
    except ValidationError as exc:
        if not explicit:
            return False
        rename = {"to_status": "loss_reason" if target == PatientStatus.LOST else "death_date",
                  "changed_on": "followup_date"}
        raise ValidationError({rename.get(k, k): v for k, v in exc.message_dict.items()}) from None
    return True


def _apply_to_patient(actor: Any, patient: Patient, fu: FollowUp) -> list[str]:
    """Keep the patient's work-list columns and status in line with this follow-up; the fields changed.

    The columns this app owns are saved first; a status change then goes through the lifecycle
    service, which sees them (and clears or sets the columns it owns, e.g. no due date once dead).
    """
    changed: list[str] = []

    def put(name: str, value: Any) -> None:
        if getattr(patient, name) != value:
            setattr(patient, name, value)
            changed.append(name)

    latest = patient.last_followup_date is None or fu.followup_date >= patient.last_followup_date
    if fu.outcome == Outcome.VISITED:
        if latest:
            put("last_followup_date", fu.followup_date)
            put("last_classification", fu.classification)
            put("next_followup_due", fu.next_followup_date)
            put("danger_level", fu.danger_level)
            put("failed_attempts", 0)
        if patient.awaiting_first_visit_since is not None and fu.followup_date >= patient.awaiting_first_visit_since:
            put("awaiting_first_visit_since", None)
        if any(getattr(fu, name) for name in INCIDENT_COUNT_FIELDS):
            put("incident_history", True)
    elif fu.outcome == Outcome.NOT_REACHED:
        put("failed_attempts", (patient.failed_attempts or 0) + 1)
    if changed:
        patient.save(update_fields=[*changed, "updated_at"])
    moved = False
    if fu.outcome == Outcome.VISITED and latest:
        if fu.hospital_status == HospitalStatus.IN_HOSPITAL:
            moved = _status_change(actor, patient, PatientStatus.IN_HOSPITAL, fu.followup_date, explicit=False,
                                   note="随访记录：正在住院")
        elif patient.status in (PatientStatus.IN_HOSPITAL, PatientStatus.LOST):
            moved = _status_change(actor, patient, PatientStatus.MANAGED, fu.followup_date, explicit=False,
                                   note="随访记录：已访到")
    elif fu.outcome == Outcome.NOT_REACHED and fu.loss_reason is not None:
        moved = _status_change(actor, patient, PatientStatus.LOST, fu.followup_date, explicit=True,
                               loss_reason=fu.loss_reason, note="随访记录：失访")
    elif fu.outcome == Outcome.DEAD:
        moved = _status_change(actor, patient, PatientStatus.DEAD, fu.followup_date, explicit=True,
                               death_date=fu.death_date, death_cause=fu.death_cause,
                               physical_death_cause=fu.physical_death_cause, note="随访记录：死亡")
    return [*changed, "status"] if moved else changed


def police_recipients(township_code: str) -> list[int]:
    """Active users holding the police role whose region is the patient's township."""
    return list(User.objects.filter(groups__name="police", region_id=township_code, is_active=True)
                .order_by("pk").values_list("pk", flat=True).distinct())


def _police_notice(followup_id: int, followup_date: date, level: Any, patient_id: int, number: str,
                   recipient: int) -> Notice:
    title = _("Patient %(number)s at danger level %(level)s: please assist the township management group") % {
        "number": number, "level": level}
    body = _("Recorded at a follow-up on %(date)s. Informing the police is required from danger level "
             "%(min)s (national service standard).") % {
        "date": followup_date.isoformat(), "min": rules.config().notify_police_min_danger}
    return Notice(
        kind="followup_police", title=str(title), body=str(body), link=_link("patients:patient_detail", pk=patient_id),
        recipient_id=recipient, subject_type="patients.patient", subject_id=str(patient_id),
        dedupe_key=f"followup:{followup_id}:police:{recipient}",
    )


def _notify_police(fu: FollowUp, patient: Patient) -> None:
    recipients = police_recipients(patient.township_code)
    if not recipients:
        return
    with _stored_language():
        notices = [_police_notice(fu.pk, fu.followup_date, fu.danger_level, patient.pk, patient.register_number, pk)
                   for pk in recipients]
    notify_many(notices)


def _chunks(ids: Sequence[int], size: int = 2000) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[i:i + size] for i in range(0, len(unique), size)]


def police_notices(followup_ids: Sequence[int]) -> list[Notice]:
    """The police notices of many follow-ups at once (an import): two queries per 2,000, the same
    notices (and dedupe keys) as ``_notify_police`` sends for one."""
    notices: list[Notice] = []
    for chunk in _chunks(followup_ids):
        rows = list(FollowUp.objects.filter(pk__in=chunk).values_list(
            "pk", "followup_date", "danger_level", "patient_id", "patient__register_number", "township_code"))
        officers: dict[str, list[int]] = {}
        for pk, town in (User.objects.filter(groups__name="police", region_id__in={r[5] for r in rows},
                                             is_active=True).order_by("pk").values_list("pk", "region_id").distinct()):
            officers.setdefault(town, []).append(pk)
        with _stored_language():
            notices += [_police_notice(pk, on, level, patient_id, number, officer)
                        for pk, on, level, patient_id, number, town in rows for officer in officers.get(town, ())]
    return notices


LOST_PROMPT = "followup_lost_prompt"


def _responsible(doctor_id: int | None, clinic_id: int | None) -> dict[str, int | None]:
    """The responsible doctor, or the managing clinic when none is named (as the work-list job)."""
    return {"recipient_id": doctor_id, "organisation_id": None} if doctor_id else {
        "recipient_id": None, "organisation_id": clinic_id}


def lost_prompt_notices(patient_ids: Sequence[int]) -> list[Notice]:
    """失访 prompt (DOMAIN.md §5: three failed attempts in a row → propose 失访, reason 4): one notice to
    the responsible doctor (or the clinic) per patient on the register whose failed attempts reached
    ``failed_attempts_for_lost``; one per streak (the key names the last visit that began it)."""
    threshold = time_limits()["failed_attempts_for_lost"]
    notices: list[Notice] = []
    for chunk in _chunks(patient_ids):
        rows = Patient.objects.filter(
            pk__in=chunk, failed_attempts__gte=threshold, status__in=(PatientStatus.MANAGED, PatientStatus.IN_HOSPITAL),
        ).values_list("pk", "register_number", "failed_attempts", "last_followup_date", "registered_on",
                      "responsible_doctor_id", "managing_organisation_id")
        with _stored_language():
            for pk, number, n, last, registered, doctor, clinic in rows:
                notices.append(Notice(
                    kind=LOST_PROMPT,
                    title=str(_("Patient %(number)s not reached %(n)s times in a row: consider recording the "
                                "patient as lost to follow-up") % {"number": number, "n": n}),
                    body=str(_("%(n)s attempts in a row did not reach this patient: consider recording them as "
                               "lost to follow-up (reason 4).") % {"n": n}),
                    link=_link("patients:patient_detail", pk=pk), subject_type="patients.patient", subject_id=str(pk),
                    dedupe_key=f"{LOST_PROMPT}:{pk}:{(last or registered).isoformat()}", **_responsible(doctor, clinic),
                ))
    return notices


def overdue_notices(patient_ids: Sequence[int], today: date) -> list[Notice]:
    """The work-list job's "follow-up overdue" notice (``worklists.flagging``, same kind, text and
    dedupe key, so the morning run adds nothing) for these patients, when managed and past their
    next follow-up date — e.g. after an import of visits whose next date has already passed."""
    from xinqiao.worklists.flagging import KIND_OVERDUE

    notices: list[Notice] = []
    for chunk in _chunks(patient_ids):
        rows = Patient.objects.filter(pk__in=chunk, status=PatientStatus.MANAGED, next_followup_due__lt=today) \
            .values_list("pk", "register_number", "next_followup_due", "responsible_doctor_id",
                         "managing_organisation_id")
        with _stored_language():
            for pk, number, due, doctor, clinic in rows:
                notices.append(Notice(
                    kind=KIND_OVERDUE, title=str(_("Follow-up overdue: patient %(number)s") % {"number": number}),
                    body=str(_("The follow-up due on %(due)s has not been recorded (%(days)d days overdue). "
                               "Visit or call the patient and record the follow-up.")
                             % {"due": due.isoformat(), "days": (today - due).days}),
                    link=_link("patients:patient_detail", pk=pk), subject_type="patients.patient", subject_id=str(pk),
                    dedupe_key=f"{KIND_OVERDUE}:{pk}:{due.isoformat()}", **_responsible(doctor, clinic),
                ))
    return notices


def record_followup(actor: Any, patient: Patient, data: FollowUpInput, *, key: str = "",
                    today: date | None = None) -> tuple[FollowUp, bool]:
    """Record one follow-up of ``patient``; returns ``(follow-up, created)``.

    ``key`` is the submission key (the form's hidden key or the API's Idempotency-Key, qualified by
    the user): a retry with the same key returns the stored follow-up and writes nothing.
    """
    _check_actor(actor, FollowUp, patient)
    found = _existing(FollowUp, key, patient)
    if found is not None:
        return found, False
    today = today or timezone.localdate()
    errors = followup_errors(patient, data, today)
    if errors:
        raise ValidationError(errors)
    visit = data.outcome == Outcome.VISITED
    drugs = medication_errors(data.medications)[1] if visit else {}
    values = {name: getattr(data, name) for name in VISIT_FIELDS} if visit else {}
    if visit:
        values["symptoms"] = sorted(set(data.symptoms))
        values["rehab_measures"] = sorted(set(data.rehab_measures))
    fu = FollowUp(
        patient=patient, region_id=patient.region_id, followup_date=data.followup_date, outcome=data.outcome,
        method=data.method,
        not_reached_reason=data.not_reached_reason.strip() if data.outcome == Outcome.NOT_REACHED else "",
        loss_reason=data.loss_reason if data.outcome == Outcome.NOT_REACHED else None,
        death_date=data.death_date if data.outcome == Outcome.DEAD else None,
        death_cause=data.death_cause if data.outcome == Outcome.DEAD else None,
        physical_death_cause=data.physical_death_cause if data.outcome == Outcome.DEAD else None,
        doctor=actor, doctor_name=data.doctor_name.strip()[:64], organisation_id=actor.organisation_id,
        submission_key=key or None, created_by=actor, **values,
    )
    try:
        with transaction.atomic():
            # The patient row is locked first: the previous visit the rules use and the columns
            # written below cannot change under a concurrent follow-up of the same patient.
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
            if visit:
                apply_decision(fu, decide(locked, data), data)
            fu.save()
            FollowUpMedication.objects.bulk_create([
                FollowUpMedication(followup=fu, drug_id=line.drug_id,
                                   drug_name=(drugs[line.drug_id].generic_name_zh if line.drug_id else line.drug_name.strip()),
                                   times=line.times, period=line.period, dose=line.dose, unit=line.unit)
                for line in data.medications] if visit else [])
            FollowUpParticipant.objects.bulk_create([
                FollowUpParticipant(followup=fu, role=p.role, user_id=p.user_id,
                                    name="" if p.user_id else p.name.strip()) for p in data.participants])
            changed = _apply_to_patient(actor, locked, fu)
            referral = None
            if fu.needs_referral:
                # 规范: unstable → refer to a psychiatric institution, in this transaction (a rolled-back
                # follow-up opens nothing); the doctor's override that drops ``refer`` opens nothing.
                referral = referral_services.refer_from_followup(actor, fu, locked, urgent=fu.police_notified)
                setattr(fu, "referral_outcome", referral)  # noqa: B010 (for the caller; not a field)
            audit.record(AuditAction.CREATE, obj=fu, detail={
                "patient": patient.pk, "outcome": fu.outcome, "classification": fu.classification,
                "proposed": fu.proposed_classification, "overridden": bool(fu.override_reason),
                "actions": fu.actions, "patient_fields": changed,
                **({"referral": referral.referral.pk if referral.referral else None,
                    "referral_created": referral.created, "referral_problem": referral.problem}
                   if referral is not None else {}),
            })
            if fu.police_notified:
                transaction.on_commit(lambda: _notify_police(fu, locked))
            if fu.outcome == Outcome.NOT_REACHED:
                transaction.on_commit(lambda: notify_many(lost_prompt_notices([patient.pk])))
    except IntegrityError:
        # A concurrent retry with the same key committed first: answer with its follow-up.
        existing = _existing(FollowUp, key, patient)
        if existing is None:
            raise
        return existing, False
    patient.refresh_from_db()
    return fu, True


def referral_of(user: Any, fu: FollowUp) -> dict[str, Any] | None:
    """The referral a visit's decision called for, as ``user`` may see it (page and API); ``None``
    when the decision did not refer.

    It is the referral this follow-up opened (``Referral.followup``) or else the patient's up
    referral that was already open when the follow-up was recorded (no second one is opened). When
    neither exists the referral could not be sent automatically: ``message`` tells the doctor to
    send it by hand. ``id`` and ``url`` are given only when the user reaches the referral
    (``Referral.objects.restrict``).
    """
    if not fu.needs_referral:
        return None
    from django.db.models import Q

    from xinqiao.referrals.models import Referral
    from xinqiao.referrals.rules import OPEN_STATES, UP

    rows = Referral.objects.select_related("to_organisation")
    found = rows.filter(followup=fu).order_by("pk").first()
    opened = found is not None
    if found is None:
        found = (rows.filter(patient_id=fu.patient_id, direction=UP, sent_at__lte=fu.created_at)
                 .filter(Q(state__in=OPEN_STATES) | Q(completed_at__gt=fu.created_at) | Q(declined_at__gt=fu.created_at))
                 .order_by("-sent_at", "-pk").first())
    if found is None:
        message = (_("The rules call for a referral to a psychiatric institution, but it could not be sent "
                     "automatically: send it by hand from the referrals page. The county mental-health centre "
                     "was informed.") if fu.doctor_id else
                   # Imported (no doctor account): a referral is opened only for a current newest visit.
                   _("Imported follow-up: no referral is linked to it (one is opened only for the newest imported "
                     "visit while its plan still runs)."))
        return {"id": None, "url": "", "state": "", "state_label": "", "to_organisation": "", "opened": False,
                "message": message}
    visible = Referral.objects.restrict(user).filter(pk=found.pk).exists()
    return {
        "id": found.pk if visible else None,
        "url": _link("referrals:referral_detail", pk=found.pk) if visible else "",
        "state": found.state, "state_label": str(found.get_state_display()),
        "to_organisation": found.to_organisation.name if visible else "", "opened": opened,
        "message": "" if opened else _("The patient already has an open referral: no second one was sent."),
    }


# --------------------------------------------------------------------------------------------------
# Health checks
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HealthCheckInput:
    """One annual health check; field names match ``HealthCheck``."""

    check_date: date
    consent: bool = True
    general_exam: str = ""
    systolic_bp: int | None = None
    diastolic_bp: int | None = None
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    blood_count: str = ""
    alt: Decimal | None = None
    glucose: Decimal | None = None
    ecg: int | None = None
    ecg_text: str = ""
    note: str = ""


MEASURES = ("general_exam", "systolic_bp", "diastolic_bp", "weight_kg", "height_cm", "blood_count", "alt",
            "glucose", "ecg", "ecg_text")
#: Plausible ranges (not clinical thresholds): a value outside is a typing error.
RANGES: dict[str, tuple[Decimal, Decimal]] = {
    "systolic_bp": (Decimal(50), Decimal(300)), "diastolic_bp": (Decimal(20), Decimal(200)),
    "weight_kg": (Decimal(10), Decimal(400)), "height_cm": (Decimal(50), Decimal(250)),
    "alt": (Decimal(0), Decimal(5000)), "glucose": (Decimal("0.5"), Decimal(60)),
}


def health_check_errors(patient: Patient, data: HealthCheckInput, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if patient.status not in FOLLOWED_STATUSES:
        errors["patient"] = _("This patient is no longer on the register.")
    if data.check_date is None:
        errors["check_date"] = _required()
    elif data.check_date > today:
        errors["check_date"] = _("The date cannot be in the future.")
    if not data.consent:
        given = [m for m in MEASURES if getattr(data, m) not in (None, "")]
        if given:
            errors[given[0]] = _("Without consent no examination is recorded; leave the results empty.")
        return errors
    for name, (low, high) in RANGES.items():
        value = getattr(data, name)
        if value is not None and not low <= Decimal(value) <= high:
            errors[name] = _("Enter a value from %(low)s to %(high)s.") % {"low": low, "high": high}
    if (data.systolic_bp is None) != (data.diastolic_bp is None):
        errors["diastolic_bp" if data.diastolic_bp is None else "systolic_bp"] = _("Give both blood pressures.")
    elif data.systolic_bp is not None and data.diastolic_bp is not None and data.diastolic_bp >= data.systolic_bp:
        errors["diastolic_bp"] = _("The diastolic pressure must be below the systolic.")
    if data.ecg is not None and data.ecg not in (1, 2):
        errors["ecg"] = _choice()
    if data.ecg == 2 and not data.ecg_text.strip():
        errors["ecg_text"] = _("Describe the abnormal ECG.")
    if all(getattr(data, m) in (None, "") for m in MEASURES):
        errors["general_exam"] = _("Record at least one examination.")
    return errors


def record_health_check(actor: Any, patient: Patient, data: HealthCheckInput, *, key: str = "",
                        today: date | None = None) -> tuple[HealthCheck, bool]:
    """Record an annual health check (or a refusal of consent); returns ``(check, created)``."""
    _check_actor(actor, HealthCheck, patient)
    found = _existing(HealthCheck, key, patient)
    if found is not None:
        return found, False
    errors = health_check_errors(patient, data, today or timezone.localdate())
    if errors:
        raise ValidationError(errors)
    values = {m: getattr(data, m) for m in MEASURES} if data.consent else {}
    check = HealthCheck(patient=patient, region_id=patient.region_id, check_date=data.check_date,
                        consent=data.consent, note=data.note.strip(), done_by=actor,
                        organisation_id=actor.organisation_id, submission_key=key or None, **values)
    try:
        with transaction.atomic():
            check.save()
            audit.record(AuditAction.CREATE, obj=check, detail={"patient": patient.pk, "consent": check.consent})
    except IntegrityError:
        existing = _existing(HealthCheck, key, patient)
        if existing is None:
            raise
        return existing, False
    return check, True


# --------------------------------------------------------------------------------------------------
# Discharges
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DischargeInput:
    """One 出院单; field names match ``DischargeRecord``. ``hospital_id`` defaults to the actor's organisation."""

    admission_date: date
    discharge_date: date
    diagnosis: str
    effect: int
    icd10_code: str = ""
    rehab_measures: Sequence[int] = ()
    rehab_advice: str = ""
    summary: str = ""
    medications: Sequence[MedicationInput] = ()
    hospital_id: int | None = None


HOSPITAL_TYPES = ("psychiatric_hospital", "general_hospital_psych", "mhc_province", "mhc_city", "mhc_county")


def discharge_errors(actor: Any, patient: Patient, data: DischargeInput, today: date) -> tuple[dict[str, str], Any]:
    errors: dict[str, str] = {}
    if patient.status not in FOLLOWED_STATUSES:
        errors["patient"] = _("This patient is no longer on the register.")
    hospital_id = data.hospital_id or actor.organisation_id
    hospital = Organisation.objects.filter(pk=hospital_id, org_type__in=HOSPITAL_TYPES).first() if hospital_id else None
    if hospital is None:
        errors["hospital_id"] = _("Choose the discharging hospital (your account has no hospital).")
    if data.admission_date is None:
        errors["admission_date"] = _required()
    if data.discharge_date is None:
        errors["discharge_date"] = _required()
    elif data.discharge_date > today:
        errors["discharge_date"] = _("The date cannot be in the future.")
    elif data.admission_date is not None and data.admission_date > data.discharge_date:
        errors["admission_date"] = _("Admission must be on or before discharge.")
    if data.diagnosis not in Diagnosis.values:
        errors["diagnosis"] = _choice()
    if data.effect not in LatestTreatmentEffect.values:
        errors["effect"] = _required() if data.effect is None else _choice()
    errors.update(_codes_errors("rehab_measures", list(data.rehab_measures), RehabMeasure.values))
    errors.update(medication_errors(data.medications)[0])
    return errors, hospital


def discharge_deadline(discharge_date: date) -> tuple[date, bool]:
    """Last day for entering a discharge (10 working days, ``time_limits()``), and whether the calendar is known."""
    due = add_working_days(discharge_date, time_limits()["discharge_report_working_days"])
    return due.date, due.certain


def _notify_clinic(record: DischargeRecord, patient: Patient) -> None:
    if not patient.managing_organisation_id:
        return
    with _stored_language():
        title = _("Patient %(number)s was discharged on %(date)s: open the first follow-up") % {
            "number": patient.register_number, "date": record.discharge_date.isoformat()}
        body = _("Discharge information from %(hospital)s. First visit within %(days)s days.") % {
            "hospital": record.hospital.name, "days": time_limits()["first_visit_days_after_notice"]}
    notify_many([Notice(
        kind="discharge", title=str(title), body=str(body), link=_link("followups:discharge_detail", pk=record.pk),
        organisation_id=patient.managing_organisation_id, subject_type="followups.dischargerecord",
        subject_id=str(record.pk), dedupe_key=f"discharge:{record.pk}:clinic",
    )])


def record_discharge(actor: Any, patient: Patient, data: DischargeInput, *, key: str = "",
                     today: date | None = None) -> tuple[DischargeRecord, bool]:
    """Record a hospital's discharge of ``patient``; returns ``(record, created)``.

    Fixes the 10-working-day deadline and whether it was met, puts the patient on the home clinic's
    "awaiting a first visit" list (and due within the first-visit limit), moves an in-hospital
    patient back to managed, and notifies the managing clinic after commit.
    """
    if not actor.has_perm(permission_for(DischargeRecord, "add")) or not in_scope(actor, patient.township_code):
        raise PermissionDenied
    found = _existing(DischargeRecord, key, patient)
    if found is not None:
        return found, False
    today = today or timezone.localdate()
    errors, hospital = discharge_errors(actor, patient, data, today)
    if errors:
        raise ValidationError(errors)
    drugs = medication_errors(data.medications)[1]
    deadline, certain = discharge_deadline(data.discharge_date)
    record = DischargeRecord(
        patient=patient, region_id=patient.region_id, hospital=hospital, admission_date=data.admission_date,
        discharge_date=data.discharge_date, diagnosis=data.diagnosis, icd10_code=data.icd10_code.strip().upper(),
        effect=data.effect, rehab_measures=sorted(set(data.rehab_measures)), rehab_advice=data.rehab_advice.strip(),
        summary=data.summary.strip(), reported_on=today, report_deadline=deadline, late=today > deadline,
        deadline_uncertain=not certain, reported_by=actor, submission_key=key or None,
    )
    try:
        with transaction.atomic():
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
            record.save()
            DischargeMedication.objects.bulk_create([
                DischargeMedication(discharge=record, drug_id=line.drug_id,
                                    drug_name=(drugs[line.drug_id].generic_name_zh if line.drug_id else line.drug_name.strip()),
                                    times=line.times, period=line.period, dose=line.dose, unit=line.unit)
                for line in data.medications])
            fields = ["awaiting_first_visit_since"]
            locked.awaiting_first_visit_since = today
            first_due = today + timedelta(days=time_limits()["first_visit_days_after_notice"])
            if locked.next_followup_due is None or locked.next_followup_due > first_due:
                locked.next_followup_due = first_due
                fields.append("next_followup_due")
            locked.save(update_fields=[*fields, "updated_at"])
            if locked.status == PatientStatus.IN_HOSPITAL and _status_change(
                    actor, locked, PatientStatus.MANAGED, data.discharge_date, explicit=False, note="出院"):
                fields.append("status")
            audit.record(AuditAction.CREATE, obj=record, detail={
                "patient": patient.pk, "late": record.late, "patient_fields": fields})
            transaction.on_commit(lambda: _notify_clinic(record, locked))
    except IntegrityError:
        existing = _existing(DischargeRecord, key, patient)
        if existing is None:
            raise
        return existing, False
    return record, True


__all__ = [
    "DischargeInput", "FollowUpInput", "HealthCheckInput", "MedicationInput", "ParticipantInput", "decide",
    "propose_for", "record_discharge", "record_followup", "record_health_check", "referral_of",
]
