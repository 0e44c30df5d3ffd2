"""Correcting a stored follow-up (随访服务记录表): who may, until when, and what a correction does.

A follow-up is never edited in place without a trace. ``correct_followup`` is one transaction that

- checks the permission (``followups.change_followup``, roles.json), the scope and who is asking:
  the recording doctor, the staff of the patient's managing clinic or of the clinic that recorded
  it, or a role allowed to correct any record in its scope (``any_author_roles``: the county
  centre); within ``window_days`` of entry unless the role may correct older ones
  (``any_age_roles``) — ``data/editing.json``;
- requires a stated reason, validates the corrected form exactly as a new one
  (``services.followup_errors``), keeps the outcome (a failed attempt or a death is not turned
  into a visit: record a new follow-up) and a declared 失访 (a register change, made there);
- stores the previous values as a ``FollowUpRevision`` (encrypted snapshot, the changed field
  names, reason, who, when), re-runs the national rules on the corrected visit (the proposal is
  recomputed, an override still needs its reason), replaces medication and participant lines;
- when the follow-up is (or was) the patient's latest visit, brings the patient's work-list
  columns in line with the latest visit (last follow-up date and class, next due, danger level);
- opens the up referral when the corrected visit newly calls for one (``refer``), as recording does
  (``referrals.services.refer_from_followup``: an open one is reused);
- audits a ``change`` with the changed field names (never values), and after commit informs
  the township's police when the corrected danger level newly calls for it.

A retry with the same submission key returns the same revision and writes nothing. Patient
status changes (death, 失访, admission) are the register's and are not replayed by a correction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.core import audit
from xinqiao.core.models import AuditAction
from xinqiao.core.scope import in_scope, permission_for
from xinqiao.followups import rules, services
from xinqiao.followups.codes import Outcome
from xinqiao.followups.models import (
    INCIDENT_COUNT_FIELDS,
    FollowUp,
    FollowUpMedication,
    FollowUpParticipant,
    FollowUpRevision,
)
from xinqiao.patients.models import Patient
from xinqiao.referrals import services as referral_services

EDITING_FILE = Path(__file__).resolve().parent / "data" / "editing.json"
#: Outcomes a correction may touch (a death is the register's; see the module docstring).
CORRECTABLE: frozenset[str] = frozenset({Outcome.VISITED, Outcome.NOT_REACHED})
#: The follow-up fields a correction may change (what the form holds).
INPUT_FIELDS: tuple[str, ...] = (
    "followup_date", "outcome", "method", "not_reached_reason", "loss_reason", "death_date", "death_cause",
    "physical_death_cause", *services.VISIT_FIELDS, "classification", "next_followup_date", "override_reason",
)
#: What the rules derive from them (kept in the snapshot, recomputed on correction).
DERIVED_FIELDS: tuple[str, ...] = (
    "previous_classification", "proposed_classification", "proposed_next_date", "proposed_actions", "actions",
    "needs_referral", "police_notified",
)
SNAPSHOT_FIELDS: tuple[str, ...] = (*INPUT_FIELDS, *DERIVED_FIELDS)
LINES = ("medications", "participants")


# --------------------------------------------------------------------------------------------------
# Configuration (data/editing.json)
# --------------------------------------------------------------------------------------------------

class ConfigError(ValueError):
    """``editing.json`` is not valid; the message names the key."""


@dataclass(frozen=True)
class EditingConfig:
    window_days: int = 30
    any_author_roles: frozenset[str] = frozenset({"mhc_staff"})
    any_age_roles: frozenset[str] = frozenset({"mhc_staff"})
    export_max_rows: int = 5000


def _whole(raw: Any, key: str, low: int, high: int) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or not low <= raw <= high:
        raise ConfigError(f"editing.json: {key} must be a whole number {low}–{high}")
    return raw


def _roles(raw: Any, key: str) -> frozenset[str]:
    from xinqiao.core.roles import all_roles

    if not isinstance(raw, list) or any(not isinstance(r, str) or r not in all_roles() for r in raw):
        raise ConfigError(f"editing.json: {key} must be a list of role codes of roles.json")
    return frozenset(raw)


def config_from_dict(raw: Mapping[str, Any]) -> EditingConfig:
    """Validate a parsed ``editing.json``; raise :class:`ConfigError` naming the offending key."""
    correction = raw.get("correction")
    export = raw.get("export")
    if not isinstance(correction, Mapping):
        raise ConfigError("editing.json: correction must be an object")
    if not isinstance(export, Mapping):
        raise ConfigError("editing.json: export must be an object")
    return EditingConfig(
        window_days=_whole(correction.get("window_days"), "correction.window_days", 1, 366),
        any_author_roles=_roles(correction.get("any_author_roles", []), "correction.any_author_roles"),
        any_age_roles=_roles(correction.get("any_age_roles", []), "correction.any_age_roles"),
        export_max_rows=_whole(export.get("max_rows"), "export.max_rows", 1, 100_000),
    )


@lru_cache(maxsize=1)
def config() -> EditingConfig:
    """The configured policy (``data/editing.json``), validated on load."""
    return config_from_dict(json.loads(EDITING_FILE.read_text(encoding="utf-8")))


def reload() -> None:
    """Forget the cached configuration (after an administrator edits it, and in tests)."""
    config.cache_clear()


# --------------------------------------------------------------------------------------------------
# Who may correct
# --------------------------------------------------------------------------------------------------

class CorrectionRefused(PermissionDenied):
    """The user may see the follow-up but not correct it; ``str(exc)`` says why (in their language)."""


def refusal(user: Any, fu: FollowUp, today: date | None = None) -> str | None:
    """Why ``user`` may not correct ``fu`` (``None`` when they may). Scope is checked by the caller (404)."""
    if not user.has_perm(permission_for(FollowUp, "change")) or not in_scope(user, fu.township_code):
        return _("Your role may not correct follow-ups.")
    if fu.outcome not in CORRECTABLE:
        return _("A death is corrected on the patient's register, not on the follow-up.")
    cfg = config()
    roles = set(getattr(user, "role_codes", ()))
    author = user.pk in (fu.doctor_id, fu.created_by_id)
    clinic = user.organisation_id is not None and user.organisation_id in (
        fu.organisation_id, fu.patient.managing_organisation_id)
    if not (author or clinic or roles & cfg.any_author_roles or user.is_superuser):
        return _("Only the recording doctor, the patient's clinic or the county centre may correct this follow-up.")
    entered = timezone.localdate(fu.created_at) if fu.created_at else fu.followup_date
    age = ((today or timezone.localdate()) - entered).days
    if age > cfg.window_days and not (roles & cfg.any_age_roles or user.is_superuser):
        return _("This follow-up was entered more than %(days)s days ago; ask the county mental-health "
                 "centre to correct it.") % {"days": cfg.window_days}
    return None


def may_correct(user: Any, fu: FollowUp) -> bool:
    return refusal(user, fu) is None


# --------------------------------------------------------------------------------------------------
# Snapshots
# --------------------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.01")))  # as the dose column stores it
    return value


def _line_values(fu: FollowUp) -> dict[str, list[dict[str, Any]]]:
    return {
        "medications": [{"drug_id": m.drug_id, "drug_name": m.drug_name, "times": m.times, "period": m.period,
                         "dose": _plain(Decimal(m.dose)), "unit": m.unit} for m in fu.medications.order_by("id")],
        "participants": [{"role": p.role, "user_id": p.user_id, "name": p.name}
                         for p in fu.participants.order_by("id")],
    }


def snapshot(fu: FollowUp) -> dict[str, Any]:
    """What the follow-up holds now: its correctable and derived fields, medication and participants."""
    data = {name: _plain(getattr(fu, name)) for name in SNAPSHOT_FIELDS}
    data.update(_line_values(fu))
    return data


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Names whose values differ, in snapshot order."""
    return [k for k in (*SNAPSHOT_FIELDS, *LINES) if before.get(k) != after.get(k)]


def as_followup(values: Mapping[str, Any]) -> FollowUp:
    """An unsaved ``FollowUp`` holding a snapshot's values (for ``present``: masked as the follow-up)."""
    obj = FollowUp()
    for name in SNAPSHOT_FIELDS:
        if name in values:
            field = FollowUp._meta.get_field(name)
            setattr(obj, field.attname, field.to_python(values[name]))  # type: ignore[union-attr]
    return obj


def lines_of(values: Mapping[str, Any]) -> tuple[list[FollowUpMedication], list[FollowUpParticipant]]:
    """Unsaved medication and participant rows of a snapshot (for ``present``)."""
    meds = [FollowUpMedication(drug_id=m.get("drug_id"), drug_name=m["drug_name"], times=m["times"],
                               period=m["period"], dose=Decimal(m["dose"]), unit=m["unit"])
            for m in values.get("medications", [])]
    parts = [FollowUpParticipant(role=p["role"], user_id=p.get("user_id"), name=p.get("name", ""))
             for p in values.get("participants", [])]
    return meds, parts


def input_from(fu: FollowUp) -> services.FollowUpInput:
    """The stored follow-up as a form input (to prefill the correction form).

    The classification and next date are prefilled only where the doctor departed from the
    proposal; otherwise they stay empty and the corrected visit gets the recomputed proposal.
    """
    values = {name: getattr(fu, name) for name in (
        "followup_date", "outcome", "method", "not_reached_reason", "loss_reason", "death_date", "death_cause",
        "physical_death_cause", *services.VISIT_FIELDS)}
    values["symptoms"] = tuple(fu.symptoms or ())
    values["rehab_measures"] = tuple(fu.rehab_measures or ())
    for name in ("symptoms_marked", "adverse_reaction_serious", "physical_illness_serious"):
        values[name] = bool(values[name])
    lines = _line_values(fu)
    overridden = fu.overridden
    return services.FollowUpInput(
        **values,
        classification=fu.classification if overridden else None,
        next_followup_date=fu.next_followup_date if overridden else None,
        override_reason=fu.override_reason if overridden else "",
        medications=tuple(services.MedicationInput(times=m["times"], dose=Decimal(m["dose"]), drug_id=m["drug_id"],
                                                   drug_name=m["drug_name"] if m["drug_id"] is None else "",
                                                   period=m["period"], unit=m["unit"])
                          for m in lines["medications"]),
        participants=tuple(services.ParticipantInput(role=p["role"], user_id=p["user_id"], name=p["name"])
                           for p in lines["participants"]),
        doctor_name=fu.doctor_name,
    )


# --------------------------------------------------------------------------------------------------
# The rules on a corrected visit
# --------------------------------------------------------------------------------------------------

def previous_classification(fu: FollowUp, patient: Patient, on: date) -> int | None:
    """The class of the patient's visit before this one (the follow-up itself excluded).

    Visits before ``on``, or on that day but recorded earlier. Without one, the value the rules
    used when the follow-up was recorded (it may come from an imported register's patient row).
    """
    row = (FollowUp.objects.filter(patient=patient, outcome=Outcome.VISITED)
           .filter(Q(followup_date__lt=on) | Q(followup_date=on, pk__lt=fu.pk)).exclude(pk=fu.pk)
           .exclude(classification=None).order_by("-followup_date", "-id")
           .values_list("classification", flat=True)[:1])
    found = list(row)
    if found:
        return int(found[0])
    return fu.previous_classification


def decide(fu: FollowUp, patient: Patient, data: services.FollowUpInput) -> services.Decision:
    """``services.decide`` for a stored visit: the same rules, the previous visit found without itself."""
    return services.decide(patient, data, previous=previous_classification(fu, patient, data.followup_date))


def propose(fu: FollowUp, data: services.FollowUpInput) -> rules.Proposal | None:
    """The live proposal on the correction form; ``None`` while the items the rules need are missing."""
    needed = ("danger_level", "insight", "self_care", "housework", "work", "study", "social")
    if data.outcome != Outcome.VISITED or data.followup_date is None or any(getattr(data, n) is None for n in needed):
        return None
    return rules.propose(services.rule_input(data, previous_classification(fu, fu.patient, data.followup_date)))


# --------------------------------------------------------------------------------------------------
# Correcting
# --------------------------------------------------------------------------------------------------

def _existing(key: str, fu: FollowUp) -> FollowUpRevision | None:
    if not key:
        return None
    found = FollowUpRevision.objects.filter(submission_key=key).first()
    if found is not None and found.followup_id != fu.pk:
        raise ValidationError({"Idempotency-Key": _("This key was already used for another follow-up.")})
    return found


def correction_errors(fu: FollowUp, data: services.FollowUpInput, reason: str, today: date) -> dict[str, str]:
    """Every problem of a correction except the override (which needs the recomputed proposal)."""
    errors = services.followup_errors(fu.patient, data, today)
    errors.pop("patient", None)  # a record of a patient since taken off the register may still be wrong
    if data.outcome != fu.outcome:
        errors["outcome"] = _("A correction cannot change the outcome; record a new follow-up instead.")
    elif fu.outcome == Outcome.NOT_REACHED and data.loss_reason != fu.loss_reason:
        errors["loss_reason"] = _("Declaring or withdrawing 失访 changes the register: do it on the patient's "
                                  "register or with a new follow-up.")
    if len(reason.strip()) < services.MIN_REASON_LENGTH:
        errors["reason"] = _("State why the follow-up is corrected (at least 4 characters).")
    return errors


def _apply(fu: FollowUp, data: services.FollowUpInput) -> None:
    """Put the corrected values on ``fu`` (as ``services.record_followup`` stores a new one)."""
    visit = data.outcome == Outcome.VISITED
    fu.followup_date = data.followup_date
    fu.method = data.method
    fu.not_reached_reason = data.not_reached_reason.strip() if data.outcome == Outcome.NOT_REACHED else ""
    fu.loss_reason = data.loss_reason if data.outcome == Outcome.NOT_REACHED else None
    for name in services.VISIT_FIELDS:
        value = getattr(data, name) if visit else FollowUp._meta.get_field(name).get_default()  # type: ignore[union-attr]
        if isinstance(value, str):
            value = value.strip()
        setattr(fu, name, value)
    if visit:
        fu.symptoms = sorted(set(data.symptoms))
        fu.rehab_measures = sorted(set(data.rehab_measures))


def _latest_visit_id(patient: Patient) -> int | None:
    row = (FollowUp.objects.filter(patient=patient, outcome=Outcome.VISITED)
           .order_by("-followup_date", "-id").values_list("pk", flat=True)[:1])
    found = list(row)
    return int(found[0]) if found else None


def _refresh_patient(patient: Patient, fu: FollowUp, was_latest: bool) -> list[str]:
    """When ``fu`` is or was the patient's latest visit, set the work-list columns from the latest visit."""
    changed: list[str] = []

    def put(name: str, value: Any) -> None:
        if getattr(patient, name) != value:
            setattr(patient, name, value)
            changed.append(name)

    latest_id = _latest_visit_id(patient)
    if (was_latest or latest_id == fu.pk) and latest_id is not None and patient.status in services.FOLLOWED_STATUSES:
        latest = fu if latest_id == fu.pk else FollowUp.objects.get(pk=latest_id)
        put("last_followup_date", latest.followup_date)
        put("last_classification", latest.classification)
        put("danger_level", latest.danger_level)
        waiting = patient.awaiting_first_visit_since
        if waiting is None or waiting <= latest.followup_date:  # a later discharge keeps its first-visit due date
            put("next_followup_due", latest.next_followup_date)
    if fu.outcome == Outcome.VISITED and any(getattr(fu, name) for name in INCIDENT_COUNT_FIELDS):
        put("incident_history", True)
    if changed:
        patient.save(update_fields=[*changed, "updated_at"])
    return changed


def correct_followup(actor: Any, followup: FollowUp, data: services.FollowUpInput, reason: str, *, key: str = "",
                     today: date | None = None) -> tuple[FollowUpRevision, bool]:
    """Correct ``followup`` with the whole corrected form ``data``; returns ``(revision, created)``.

    ``key`` is the submission key (the form's hidden key or the API's Idempotency-Key, qualified
    by the user): a retry with the same key returns the same revision and writes nothing.
    Raises ``CorrectionRefused`` (a ``PermissionDenied``) when the actor may not correct it,
    ``ValidationError`` (errors named by field) when the correction is not valid.
    """
    found = _existing(key, followup)
    if found is not None:
        return found, False
    today = today or timezone.localdate()
    refused = refusal(actor, followup, today)
    if refused:
        raise CorrectionRefused(refused)
    errors = correction_errors(followup, data, reason, today)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            # Patient first, as record_followup locks it: the previous visit and the columns cannot
            # change under a concurrent follow-up or correction of the same patient.
            patient = Patient.objects.select_for_update().get(pk=followup.patient_id)
            fu = FollowUp.objects.select_for_update().get(pk=followup.pk)
            before = snapshot(fu)
            was_latest = _latest_visit_id(patient) == fu.pk
            _apply(fu, data)
            if fu.outcome == Outcome.VISITED:
                services.apply_decision(fu, decide(fu, patient, data), data, police_notified=before["police_notified"])
            drugs = services.medication_errors(data.medications)[1] if fu.outcome == Outcome.VISITED else {}
            new_lines = {
                "medications": [{"drug_id": m.drug_id,
                                 "drug_name": drugs[m.drug_id].generic_name_zh if m.drug_id else m.drug_name.strip(),
                                 "times": m.times, "period": m.period, "dose": _plain(Decimal(m.dose)), "unit": m.unit}
                                for m in data.medications] if fu.outcome == Outcome.VISITED else [],
                "participants": [{"role": p.role, "user_id": p.user_id, "name": "" if p.user_id else p.name.strip()}
                                 for p in data.participants],
            }
            after = {**{name: _plain(getattr(fu, name)) for name in SNAPSHOT_FIELDS}, **new_lines}
            changed = changed_fields(before, after)
            if not [name for name in changed if name not in DERIVED_FIELDS]:
                raise ValidationError({NON_FIELD_ERRORS: _("The correction changes nothing.")})
            number = (fu.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
            revision = FollowUpRevision.objects.create(
                followup=fu, number=number, data=json.dumps(before, ensure_ascii=False, sort_keys=True),
                changed=changed, reason=reason.strip(), submission_key=key or None, created_by=actor)
            fu.save()
            if "medications" in changed:
                fu.medications.all().delete()
                FollowUpMedication.objects.bulk_create([
                    FollowUpMedication(followup=fu, drug_id=m["drug_id"], drug_name=m["drug_name"], times=m["times"],
                                       period=m["period"], dose=Decimal(m["dose"]), unit=m["unit"])
                    for m in new_lines["medications"]])
            if "participants" in changed:
                fu.participants.all().delete()
                FollowUpParticipant.objects.bulk_create([
                    FollowUpParticipant(followup=fu, role=p["role"], user_id=p["user_id"], name=p["name"])
                    for p in new_lines["participants"]])
            patient_fields = _refresh_patient(patient, fu, was_latest)
            opened: dict[str, Any] = {}
            if fu.needs_referral and not before["needs_referral"]:
                # As on recording: the corrected visit now calls for a referral (an open one is reused).
                referral = referral_services.refer_from_followup(actor, fu, patient, urgent=fu.police_notified)
                opened = {"referral": referral.referral.pk if referral.referral else None,
                          "referral_created": referral.created}
            audit.record(AuditAction.CHANGE, obj=fu, detail={  # field names and ids only, never values
                "revision": number, "fields": changed, "patient": patient.pk, "patient_fields": patient_fields,
                **opened})
            if fu.police_notified and not before["police_notified"]:
                transaction.on_commit(lambda: services._notify_police(fu, patient))
    except IntegrityError:
        # A concurrent retry with the same key committed first: answer with its revision.
        existing = _existing(key, followup)
        if existing is None:
            raise
        return existing, False
    followup.refresh_from_db()
    return revision, True


def merged_input(fu: FollowUp, changes: Mapping[str, Any]) -> services.FollowUpInput:
    """The stored follow-up with ``changes`` (input field → value) applied: the API's partial correction."""
    current = input_from(fu)
    unknown = set(changes) - set(services.FollowUpInput.__dataclass_fields__)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("Unknown field.")})
    return replace(current, **dict(changes))


__all__ = [
    "CorrectionRefused", "EditingConfig", "config", "correct_followup", "input_from", "may_correct", "merged_input",
    "propose", "refusal", "reload", "snapshot",
]
