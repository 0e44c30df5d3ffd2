"""Writes of referrals and emergencies: the only place that creates or changes them.

Each action is one transaction with its audit event; notifications are sent after commit (a
rolled-back write notifies nobody). Titles of notices carry the patient's register number, never a
name (``core/models/notification.py``). Views and API handlers parse, call one of these, and render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from xinqiao.core import audit
from xinqiao.core import services as core_services
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction, Organisation, OrgType, Region, RegionLevel, User
from xinqiao.core.notifications import Notice, notify_many
from xinqiao.core.scope import in_scope, permission_for
from xinqiao.followups import rules as followup_rules
from xinqiao.patients import services as patient_services
from xinqiao.patients.codes import DangerLevel, Diagnosis
from xinqiao.patients.models import Patient
from xinqiao.patients.rules import time_limits
from xinqiao.patients.workdays import add_working_days
from xinqiao.referrals import rules
from xinqiao.referrals.codes import (
    EmergencyEffect,
    EmergencyMeasure,
    EmergencyReason,
    EmergencyStatus,
    ReferralAction,
    ReferralState,
    ReporterRole,
    SubjectCategory,
    Urgency,
)
from xinqiao.referrals.models import EmergencyRecord, Referral, ReferralEvent


def _add_days(start: date, n: int) -> date:
    """Working days on the official calendar (``patients.workdays``)."""
    return add_working_days(start, n).date


def _notify_on_commit(notices: list[Notice]) -> None:
    """Send after the surrounding transaction commits (nothing is sent for a rolled-back write)."""
    if notices:
        transaction.on_commit(lambda: notify_many(notices))


def _stored_language() -> Any:
    """Notices are stored text: write them in the deployment's language, whoever triggered them."""
    return translation.override(settings.LANGUAGE_CODE)


# --------------------------------------------------------------------------------------------------
# Referrals
# --------------------------------------------------------------------------------------------------

_DIRECTION_MESSAGES = {
    "unknown": lambda: _("Choose up or down."),
    "no_organisation": lambda: _("Your account has no organisation; an administrator must set one."),
    "wrong_type_from_up": lambda: _("Up referrals are sent by a primary-care organisation."),
    "wrong_type_from_down": lambda: _("Down referrals are sent by a psychiatric institution."),
    "wrong_type_to_up": lambda: _("Choose a psychiatric institution to refer to."),
    "wrong_type_to_down": lambda: _("Choose a primary-care organisation to refer back to."),
    "same": lambda: _("A referral goes to another organisation."),
    "required_reason": lambda: _("State the reason for the referral."),
    "required_discharge_summary": lambda: _("Enter the discharge summary (outcome, medication guidance, rehabilitation)."),
}


def _direction_message(field_name: str, code: str, direction: str) -> str:
    key = {"wrong_type": f"wrong_type_{'from' if field_name == 'from_organisation' else 'to'}_{direction}",
           "required": f"required_{field_name}"}.get(code, code)
    return str(_DIRECTION_MESSAGES[key]())


@dataclass(frozen=True)
class ReferralInput:
    """A new referral; field names match the model."""

    patient_id: int
    direction: str
    to_organisation_id: int
    reason: str = ""
    discharge_summary: str = ""
    urgency: str = Urgency.ROUTINE
    origin: str = ""


def referral_side(user: Any, referral: Referral) -> str | None:
    """``receiver`` or ``sender`` when the user works at that organisation, else ``None``."""
    org = getattr(user, "organisation_id", None)
    if org is None:
        return None
    if org == referral.to_organisation_id:
        return rules.RECEIVER
    if org == referral.from_organisation_id:
        return rules.SENDER
    return None


def receiving_organisations(user: Any, direction: str) -> Any:
    """Organisations a referral in ``direction`` may go to, in the user's province."""
    _senders, receivers = rules.DIRECTION_TYPES.get(direction, (frozenset(), frozenset()))
    qs = Organisation.objects.filter(org_type__in=receivers, is_active=True).order_by("region_id", "name")
    region = getattr(user, "region_id", None)
    if region:
        qs = qs.filter(province_code=region[:2])
    return qs


def send_referral(actor: Any, data: ReferralInput, *, followup: Any = None) -> Referral:
    """Send a referral from the actor's organisation (audited); the receiver is notified.

    ``followup`` is the follow-up that opens it automatically (``refer_from_followup``): kept in
    ``Referral.followup``.
    """
    if not actor.has_perm(permission_for(Referral, "add")):
        raise PermissionDenied
    errors: dict[str, str] = {}
    patient = Patient.objects.restrict(actor, "view").filter(pk=data.patient_id).first()
    if patient is None:
        errors["patient"] = _("Choose a registered patient of your region.")
    sender = actor.organisation
    receiver = Organisation.objects.filter(pk=data.to_organisation_id, is_active=True).first()
    if data.urgency not in Urgency.values:
        errors["urgency"] = _("Choose one of the allowed values.")
    codes = rules.direction_errors(
        data.direction, sender.org_type if sender else None, receiver.org_type if receiver else None,
        reason=data.reason, discharge_summary=data.discharge_summary,
        same_organisation=sender is not None and receiver is not None and sender.pk == receiver.pk,
    )
    for field_name, code in codes.items():
        errors.setdefault(field_name, _direction_message(field_name, code, data.direction))
    if errors:
        raise ValidationError(errors)
    assert patient is not None and sender is not None and receiver is not None
    now = timezone.now()
    today = timezone.localdate(now)
    referral = Referral(
        patient=patient, direction=data.direction, from_organisation=sender, to_organisation=receiver,
        urgency=data.urgency, reason=data.reason.strip(), discharge_summary=data.discharge_summary.strip(),
        state=ReferralState.SENT, sent_at=now, sent_by=actor,
        receive_due=rules.receive_due(today, time_limits(), _add_days), origin=data.origin[:32],
        region_id=patient.region_id, followup=followup,
    )
    with transaction.atomic():
        referral.save()
        ReferralEvent.objects.create(referral=referral, action=ReferralAction.SEND, to_state=ReferralState.SENT,
                                     at=now, by=actor, organisation=sender)
        audit.record(AuditAction.CREATE, actor=actor, obj=referral, detail={
            "direction": referral.direction, "from": sender.pk, "to": receiver.pk, "urgency": referral.urgency,
            "patient": patient.pk, "fields": sorted(f for f in Referral.PII_FIELDS if getattr(referral, f)),
            **({"followup": followup.pk} if followup is not None else {}),
        })
        _notify_on_commit([_referral_notice(referral, "sent", receiver.pk)])
    return referral


# --- Referrals opened by a follow-up ----------------------------------------------------------------

#: Who receives a referral that a follow-up opens (规范: 病情不稳定 → 建议转诊到上级医院): an active
#: institution of the patient's county (``county_code``), by type in this order — the psychiatric
#: hospital (精神专科医院), then a general hospital's psychiatry department, then the county
#: mental-health centre — and within a type the one registered first (lowest id). There is no
#: "designated" flag on organisations: the county's psychiatric hospital is its designated
#: institution. Nothing outside the county is chosen (a referral across counties is the doctor's call).
AUTO_RECEIVER_TYPES: tuple[str, ...] = (OrgType.PSYCHIATRIC_HOSPITAL, OrgType.GENERAL_HOSPITAL_PSYCH,
                                        OrgType.MHC_COUNTY)


def auto_receiver(patient: Patient) -> Organisation | None:
    """The institution a follow-up's automatic referral goes to (``AUTO_RECEIVER_TYPES``), or ``None``."""
    found = {org.org_type: org for org in Organisation.objects.filter(
        org_type__in=AUTO_RECEIVER_TYPES, county_code=patient.county_code, is_active=True).order_by("-pk")}
    return next((found[t] for t in AUTO_RECEIVER_TYPES if t in found), None)


def open_up_referral(patient_id: int) -> Referral | None:
    """The patient's most recent up referral still open (sent or received), if any."""
    return (Referral.objects.filter(patient_id=patient_id, direction=rules.UP, state__in=rules.OPEN_STATES)
            .select_related("to_organisation").order_by("-sent_at", "-pk").first())


def followup_reason(followup: Any) -> str:
    """The referral's reason from the follow-up: date, classification, danger level, symptoms (codes'
    labels only: no free text, no identity), in the deployment's language."""
    from xinqiao.patients.codes import Classification, Symptom

    symptoms = dict(Symptom.choices)
    with _stored_language():
        parts = [
            _("Follow-up of %(date)s: classification %(classification)s, danger level %(level)s.") % {
                "date": followup.followup_date.isoformat(),
                "classification": dict(Classification.choices).get(followup.classification, "—"),
                "level": followup.danger_level if followup.danger_level is not None else "—"},
            _("Current symptoms: %(symptoms)s.") % {
                "symptoms": "、".join(str(symptoms.get(code, code)) for code in followup.symptoms) or _("none reported")},
            _("The national service standard calls for a referral of an unstable patient to a psychiatric "
              "institution, and a follow-up of the referral within 2 weeks."),
        ]
        return " ".join(str(p) for p in parts)


@dataclass(frozen=True)
class FollowUpReferral:
    """What ``refer_from_followup`` did: the referral opened (``created``) or the open one found, or
    none with ``problem`` (``no_receiver`` / ``cannot_send``) — the doctor must send it by hand."""

    referral: Referral | None
    created: bool = False
    problem: str = ""


def refer_from_followup(actor: Any, followup: Any, patient: Patient, *, urgent: bool = False) -> FollowUpReferral:
    """Open the up referral a follow-up's decision calls for (``refer``), inside the caller's transaction.

    A patient with an open up referral gets no new one (the open one is returned). Otherwise the
    referral goes to ``auto_receiver`` through ``send_referral`` (audited, the receiver notified on
    commit). When no receiver exists, or the actor cannot send one (no primary-care organisation),
    nothing fails: the county mental-health centre (the city centre where the county has none) is
    notified on commit that the referral must be sent by hand, and ``problem`` says why.
    """
    existing = open_up_referral(patient.pk)
    if existing is not None:
        return FollowUpReferral(existing)
    receiver = auto_receiver(patient)
    problem = "no_receiver"
    if receiver is not None:
        data = ReferralInput(patient_id=patient.pk, direction=rules.UP, to_organisation_id=receiver.pk,
                             reason=followup_reason(followup), urgency=Urgency.URGENT if urgent else Urgency.ROUTINE,
                             origin=f"followup:{followup.pk}")
        try:
            with transaction.atomic():
                return FollowUpReferral(send_referral(actor, data, followup=followup), created=True)
        except (ValidationError, PermissionDenied):
            problem = "cannot_send"
    _notify_on_commit(_manual_referral_notices(followup, patient, problem))
    return FollowUpReferral(None, problem=problem)


def _manual_referral_notices(followup: Any, patient: Patient, problem: str) -> list[Notice]:
    centres = list(Organisation.objects.filter(org_type=OrgType.MHC_COUNTY, county_code=patient.county_code,
                                               is_active=True).order_by("pk").values_list("pk", flat=True))
    if not centres:  # no county centre either: the city centre coordinates
        centres = list(Organisation.objects.filter(org_type=OrgType.MHC_CITY, city_code=patient.city_code,
                                                   is_active=True).order_by("pk").values_list("pk", flat=True))
    with _stored_language():
        title = str(_("Patient %(number)s needs a referral to a psychiatric institution: send it by hand") % {
            "number": patient.register_number})
        body = str(_("No psychiatric institution of the county is on the platform to receive it.")
                   if problem == "no_receiver" else
                   _("The follow-up was recorded by an account that cannot send referrals."))
    link = reverse("patients:patient_detail", kwargs={"pk": patient.pk})
    return [Notice(kind="referral_manual", title=title, body=body, link=link, organisation_id=org,
                   subject_type="followups.followup", subject_id=str(followup.pk),
                   dedupe_key=f"followup:{followup.pk}:referral_manual:{org}") for org in centres]


def act_on_referral(actor: Any, referral: Referral, action: str, note: str = "") -> Referral:
    """Receive, decline (with a reason) or complete a referral the actor's organisation received."""
    if not actor.has_perm(permission_for(Referral, "change")):
        raise PermissionDenied
    side = referral_side(actor, referral)
    try:
        step = rules.transition_for(referral.state, action, side or "", note)
    except rules.TransitionRefused as exc:
        if exc.code == "wrong_side":
            raise PermissionDenied from None
        if exc.code == "note_required":
            raise ValidationError({"note": _("State the reason for declining.")}) from None
        raise ValidationError({"action": _("This step is not possible for a referral that is %(state)s.")
                               % {"state": referral.get_state_display()}}) from None
    now = timezone.now()
    previous = referral.state
    referral.state = step.target
    changed = ["state", "updated_at"]
    if step.target == ReferralState.RECEIVED:
        referral.received_at = now
        referral.complete_due = rules.complete_due(timezone.localdate(now), time_limits(), _add_days)
        changed += ["received_at", "complete_due"]
    elif step.target == ReferralState.DECLINED:
        referral.declined_at, referral.decline_reason = now, note.strip()
        changed += ["declined_at", "decline_reason"]
    elif step.target == ReferralState.COMPLETED:
        referral.completed_at, referral.outcome_note = now, note.strip()
        changed += ["completed_at", "outcome_note"]
    with transaction.atomic():
        # The state guard makes two concurrent clicks one transition: the loser changes nothing.
        updated = Referral.objects.filter(pk=referral.pk, state=previous).update(
            **{f: getattr(referral, f) for f in changed if f != "updated_at"}, updated_at=now)
        if not updated:
            raise ValidationError({"action": _("The referral was changed meanwhile; reload the page.")})
        ReferralEvent.objects.create(referral=referral, action=action, from_state=previous, to_state=step.target,
                                     at=now, by=actor, organisation_id=actor.organisation_id, note=note.strip())
        audit.record(AuditAction.CHANGE, actor=actor, obj=referral, detail={"action": action, "from": previous,
                                                               "to": step.target})
        _notify_on_commit([_referral_notice(referral, step.target, referral.from_organisation_id)])
    return referral


def view_referral(actor: Any, referral: Referral) -> dict[str, Any]:
    """What the actor may see of the referral's clinical text; audited as a view (with the patient)."""
    audit.record(AuditAction.VIEW, actor=actor, obj=referral, detail={"patient": referral.patient_id})
    return present(actor, referral)


def _referral_link(pk: int) -> str:
    return reverse("referrals:referral_detail", kwargs={"pk": pk})


def _referral_notice(referral: Referral, event: str, organisation_id: int) -> Notice:
    number = referral.patient.register_number
    with _stored_language():
        titles = {
            "sent": _("Referral received from %(org)s: patient %(number)s") % {
                "org": referral.from_organisation.name, "number": number},
            ReferralState.RECEIVED: _("Referral of patient %(number)s was received by %(org)s") % {
                "org": referral.to_organisation.name, "number": number},
            ReferralState.DECLINED: _("Referral of patient %(number)s was declined by %(org)s") % {
                "org": referral.to_organisation.name, "number": number},
            ReferralState.COMPLETED: _("Referral of patient %(number)s was completed by %(org)s") % {
                "org": referral.to_organisation.name, "number": number},
        }
        body = (_("Urgent referral.") if referral.urgency == Urgency.URGENT else "")
    return Notice(kind=f"referral_{event}", title=str(titles[event]), body=str(body), link=_referral_link(referral.pk),
                  organisation_id=organisation_id, subject_type="referrals.referral", subject_id=str(referral.pk),
                  dedupe_key=f"referral:{referral.pk}:{event}")


def overdue_referrals(today: date) -> Any:
    """Open referrals past the deadline of their current step (one indexed query)."""
    return Referral.objects.filter(
        Q(state=ReferralState.SENT, receive_due__lt=today) | Q(state=ReferralState.RECEIVED, complete_due__lt=today)
    )


def referral_reminder_notices(today: date) -> list[Notice]:
    """One notice per missed deadline to the receiving organisation (which must act) and one to the
    sender; the dedupe key names the deadline, so a repeated run adds nothing."""
    rows = overdue_referrals(today).values_list(
        "pk", "state", "receive_due", "complete_due", "from_organisation_id", "to_organisation_id",
        "patient__register_number",
    ).order_by("pk")
    notices: list[Notice] = []
    with _stored_language():
        for pk, state, receive_by, complete_by, from_org, to_org, number in rows:
            due = rules.current_due(state, receive_by, complete_by)
            step = _("receipt") if state == ReferralState.SENT else _("completion")
            title = _("Overdue referral of patient %(number)s: %(step)s was due on %(due)s") % {
                "number": number, "step": step, "due": due}
            for who, org in (("to", to_org), ("from", from_org)):
                notices.append(Notice(
                    kind="referral_overdue", title=str(title), link=_referral_link(pk), organisation_id=org,
                    subject_type="referrals.referral", subject_id=str(pk),
                    dedupe_key=f"referral:{pk}:overdue:{state}:{due}:{who}",
                ))
    return notices


def send_referral_reminders(today: date | None = None) -> int:
    """Remind of every missed referral deadline (idempotent); returns how many notices were offered."""
    return notify_many(referral_reminder_notices(today or timezone.localdate()))


# --------------------------------------------------------------------------------------------------
# Emergencies
# --------------------------------------------------------------------------------------------------

def police_threshold() -> int:
    """The danger level from which police are informed (DOMAIN.md §3, §5: default 3): the follow-up
    rules' setting (``followups/data/rules.json`` ``notify_police_min_danger``), so that follow-ups and
    emergencies inform the police from the same level."""
    return followup_rules.config().notify_police_min_danger


@dataclass(frozen=True)
class UnregisteredSubject:
    """The person handled when they are not on the register (a suspected case, for instance)."""

    name: str
    id_type: str = "resident_id"
    id_number: str = ""
    region_code: str = ""  # home township; the event's township when empty
    sex: str = ""
    phone: str = ""
    address: str = ""


@dataclass(frozen=True)
class EmergencyInput:
    """One 应急处置记录单; field names match the model."""

    region_code: str
    occurred_at: datetime
    danger_level: int
    subject_category: int
    reporter_role: int
    reason: int
    measures: list[int]
    effect: int
    place: str = ""
    patient_id: int | None = None
    subject: UnregisteredSubject | None = None
    police_officers: str = ""
    prevention_doctors: str = ""
    psychiatrists: str = ""
    diagnosis: str = ""
    diagnosis_note: str = ""
    narrative: str = ""


def _emergency_errors(actor: Any, data: EmergencyInput, now: datetime) -> tuple[dict[str, str], Any, Any]:
    errors: dict[str, str] = {}
    region = Region.objects.filter(code=data.region_code).first()
    if region is None or region.level != RegionLevel.TOWNSHIP:
        errors["region_code"] = _("Choose a township (乡镇/街道) by its 9-digit code.")
    elif not in_scope(actor, region.code):
        errors["region_code"] = _("This township is outside your region.")
    if data.occurred_at > now + timedelta(minutes=5):
        errors["occurred_at"] = _("The time of the event cannot be in the future.")
    if data.danger_level not in DangerLevel.values:
        errors["danger_level"] = _("Choose a danger level from 0 to 5.")
    if data.subject_category not in SubjectCategory.values:
        errors["subject_category"] = _("Choose one of the allowed values.")
    if data.reporter_role not in ReporterRole.values:
        errors["reporter_role"] = _("Choose one of the allowed values.")
    if data.reason not in EmergencyReason.values:
        errors["reason"] = _("Choose one of the allowed values.")
    if not rules.measures_valid(data.measures, EmergencyMeasure.values):
        errors["measures"] = _("Choose at least one of the listed measures.")
    if data.effect not in EmergencyEffect.values:
        errors["effect"] = _("Choose one of the allowed values.")
    if data.diagnosis and data.diagnosis not in Diagnosis.values:
        errors["diagnosis"] = _("Choose one of the allowed values.")
    patient = None
    if data.patient_id is not None:
        patient = Patient.objects.restrict(actor, "view").filter(pk=data.patient_id).first()
        if patient is None:
            errors["patient"] = _("Choose a registered patient of your region.")
        elif data.subject_category != SubjectCategory.REGISTERED:
            errors["subject_category"] = _("A patient on the register is of the category 'patient on the register'.")
    elif data.subject_category == SubjectCategory.REGISTERED:
        errors["patient"] = _("Choose the registered patient.")
    if data.patient_id is not None and data.subject is not None:
        errors["subject"] = _("Give either a registered patient or an unregistered person, not both.")
    return errors, region, patient


def record_emergency(actor: Any, data: EmergencyInput) -> EmergencyRecord:
    """Record an emergency (audited): late flag against the 24-hour limit, police of the township
    informed at or above the threshold, the county centre and the patient's clinic notified."""
    if not actor.has_perm(permission_for(EmergencyRecord, "add")):
        raise PermissionDenied
    now = timezone.now()
    errors, region, patient = _emergency_errors(actor, data, now)
    if errors:
        raise ValidationError(errors)
    hours = time_limits()["emergency_record_hours"]
    threshold = police_threshold()
    with transaction.atomic():
        person = patient.person if patient is not None else None
        if data.subject is not None:
            try:
                person = core_services.create_person(actor, core_services.PersonInput(
                    name=data.subject.name, id_type=data.subject.id_type, id_number=data.subject.id_number,
                    region_code=data.subject.region_code or data.region_code, sex=data.subject.sex,
                    phone=data.subject.phone, address=data.subject.address,
                ))
            except ValidationError as exc:
                raise ValidationError({f"subject.{k}": v for k, v in exc.message_dict.items()}) from None
        record = EmergencyRecord(
            region=region, patient=patient, person=person, subject_category=data.subject_category,
            occurred_at=data.occurred_at, place=data.place.strip(), danger_level=data.danger_level,
            reporter_role=data.reporter_role, reason=data.reason, measures=sorted(set(data.measures)),
            police_officers=data.police_officers.strip(), prevention_doctors=data.prevention_doctors.strip(),
            psychiatrists=data.psychiatrists.strip(), diagnosis=data.diagnosis,
            diagnosis_note=data.diagnosis_note.strip(), effect=data.effect, narrative=data.narrative.strip(),
            organisation_id=actor.organisation_id, recorded_at=now, recorded_by=actor,
            record_due=rules.record_due(data.occurred_at, hours),
            recorded_late=rules.record_is_late(data.occurred_at, now, hours),
        )
        police = _police(record) if rules.must_notify_police(data.danger_level, threshold) else ([], [])
        if police[0] or police[1]:
            record.police_notified_at = now
        record.save()
        if patient is not None:
            patient_services.raise_danger_level(actor, patient, record.danger_level,
                                                source=f"emergency:{record.pk}")
        audit.record(AuditAction.CREATE, actor=actor, obj=record, detail={
            "danger_level": record.danger_level, "late": record.recorded_late, "patient": patient.pk if patient else None,
            "police_notified": len(police[0]) + len(police[1]), "threshold": threshold,
        })
        _notify_on_commit(_emergency_notices(record, police))
    return record


def _police(record: EmergencyRecord) -> tuple[list[int], list[int]]:
    """Who is told: the police stations of the township where it happened and of the patient's home
    township, and the police-role accounts placed there that belong to none of those stations (the
    accounts the follow-up service informs: ``followups.services.police_recipients``)."""
    towns = {record.region_id}
    if record.patient is not None:
        towns.add(record.patient.region_id)
    stations = list(Organisation.objects.filter(org_type=OrgType.POLICE_STATION, region_id__in=towns, is_active=True)
                    .order_by("pk").values_list("pk", flat=True))
    officers = list(User.objects.filter(groups__name="police", region_id__in=towns, is_active=True)
                    .exclude(organisation_id__in=stations).order_by("pk").values_list("pk", flat=True).distinct())
    return stations, officers


def _emergency_notices(record: EmergencyRecord, police: tuple[list[int], list[int]]) -> list[Notice]:
    link = reverse("referrals:emergency_detail", kwargs={"pk": record.pk})
    who = record.patient.register_number if record.patient else ""
    notices: list[Notice] = []
    with _stored_language():
        subject = (_("patient %(number)s") % {"number": who}) if who else _("an unregistered person")
        late = _("Recorded after the 24-hour limit.") if record.recorded_late else ""
        police_title = str(_("Emergency at danger level %(level)s involving %(subject)s: police informed") % {
            "level": record.danger_level, "subject": subject})
        stations, officers = police
        for org in stations:
            notices.append(Notice(
                kind="emergency_police", title=police_title, organisation_id=org, link=link,
                dedupe_key=f"emergency:{record.pk}:police:{org}", subject_type="referrals.emergencyrecord",
                subject_id=str(record.pk)))
        for user in officers:
            notices.append(Notice(
                kind="emergency_police", title=police_title, recipient_id=user, link=link,
                dedupe_key=f"emergency:{record.pk}:police:u{user}", subject_type="referrals.emergencyrecord",
                subject_id=str(record.pk)))
        centres = Organisation.objects.filter(
            org_type=OrgType.MHC_COUNTY, region_id=record.county_code, is_active=True).values_list("pk", flat=True)
        clinic = [record.patient.managing_organisation_id] if record.patient else []
        for org in [*centres, *clinic]:
            if org == record.organisation_id:
                continue
            notices.append(Notice(
                kind="emergency_recorded",
                title=str(_("Emergency handled: %(subject)s, danger level %(level)s") % {
                    "level": record.danger_level, "subject": subject}),
                body=str(late), organisation_id=org, dedupe_key=f"emergency:{record.pk}:recorded:{org}", link=link,
                subject_type="referrals.emergencyrecord", subject_id=str(record.pk)))
    return notices


def close_emergency(actor: Any, record: EmergencyRecord) -> EmergencyRecord:
    """Take the emergency off the county board (audited); closing a closed one changes nothing."""
    if not actor.has_perm(permission_for(EmergencyRecord, "change")):
        raise PermissionDenied
    if record.status == EmergencyStatus.CLOSED:
        return record
    now = timezone.now()
    with transaction.atomic():
        EmergencyRecord.objects.filter(pk=record.pk).update(status=EmergencyStatus.CLOSED, closed_at=now,
                                                             closed_by=actor)
        record.status, record.closed_at, record.closed_by = EmergencyStatus.CLOSED, now, actor
        audit.record(AuditAction.CHANGE, actor=actor, obj=record, detail={"status": EmergencyStatus.CLOSED})
    return record


def view_emergency(actor: Any, record: EmergencyRecord) -> dict[str, Any]:
    """The record as the actor may see it; audited as a view (with the patient, if any)."""
    audit.record(AuditAction.VIEW, actor=actor, obj=record, detail={"patient": record.patient_id})
    return emergency_shown(actor, record)


def emergency_shown(actor: Any, record: EmergencyRecord) -> dict[str, Any]:
    """Like ``view_emergency`` without the audit event (for list rows audited as one list event)."""
    shown = present(actor, record)
    if "measures" in shown:
        labels = dict(EmergencyMeasure.choices)
        shown["measures"] = [str(labels.get(code, code)) for code in record.measures]
    return shown

