"""Writes and audited reads of the township management groups; the only place that changes them.

Each write is one transaction with its audit event. The group's patient list is the partner's
window on the register: ``Patient.objects.restrict(user, "view")`` (danger ≥3 or a 肇事肇祸 history
for partner roles, DOMAIN.md §7) in the group's township, each value through ``masks.present``, and
every list and every record opened is an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from xinqiao.caregroups import rules
from xinqiao.caregroups.models import (
    GroupKind,
    GroupMember,
    JointVisit,
    ManagementGroup,
    Meeting,
    VisitOutcome,
)
from xinqiao.core import audit
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction, Person, Region, RegionLevel, User
from xinqiao.core.scope import in_scope, permission_for
from xinqiao.followups.models import FollowUp
from xinqiao.patients.codes import OFF_REGISTER_STATUSES
from xinqiao.patients.models import Patient


def _require(actor: Any, model: Any, action: str) -> None:
    if not actor.has_perm(permission_for(model, action)):
        raise PermissionDenied


def seat_label(code: str) -> str:
    """The seat's label in the active language (``data/member_roles.json``)."""
    role = rules.member_roles().get(code)
    return role.label(get_language() or "zh-hans") if role else code


def seat_choices(kind: str) -> list[tuple[str, str]]:
    """(code, label) of the seats a group of ``kind`` has."""
    lang = get_language() or "zh-hans"
    return [(r.code, r.label(lang)) for r in rules.roles_for_kind(kind)]


# --------------------------------------------------------------------------------------------------
# Groups and members
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupInput:
    """A new group in a township."""

    region_code: str
    kind: str
    name: str
    established_on: date


def create_group(actor: Any, data: GroupInput) -> ManagementGroup:
    """Set up a group in a township of the actor's region (audited)."""
    _require(actor, ManagementGroup, "add")
    errors: dict[str, str] = {}
    region = Region.objects.filter(code=data.region_code).first()
    if region is None or region.level != RegionLevel.TOWNSHIP:
        errors["region_code"] = _("Choose a township (乡镇/街道) by its 9-digit code.")
    elif not in_scope(actor, region.code):
        errors["region_code"] = _("This township is outside your region.")
    if data.kind not in GroupKind.values:
        errors["kind"] = _("Choose one of the allowed values.")
    if not data.name.strip():
        errors["name"] = _("This field is required.")
    elif region is not None and ManagementGroup.objects.filter(region=region, name=data.name.strip()).exists():
        errors["name"] = _("This township already has a group of this name.")
    if data.established_on > timezone.localdate():
        errors["established_on"] = _("The date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        group = ManagementGroup.objects.create(region=region, kind=data.kind, name=data.name.strip(),
                                               established_on=data.established_on, created_by=actor)
        audit.record(AuditAction.CREATE, actor=actor, obj=group, detail={"kind": group.kind})
    return group


@dataclass(frozen=True)
class MemberInput:
    """A seat for a platform user (``user_id``) or a named outsider."""

    role: str
    user_id: int | None = None
    outsider_name: str = ""
    outsider_phone: str = ""
    unit: str = ""
    joined_on: date | None = None


def eligible_users(group: ManagementGroup) -> Any:
    """Platform users who may take a seat: active accounts placed in the group's township or county."""
    return (User.objects.filter(is_active=True, region_id__in=[group.township_code, group.county_code])
            .order_by("region_id", "username"))


def add_member(actor: Any, group: ManagementGroup, data: MemberInput) -> GroupMember:
    """Give someone a seat of the group (audited; the outsider's name and phone are encrypted)."""
    _require(actor, GroupMember, "add")
    errors: dict[str, str] = {}
    if not rules.seat_allowed(group.kind, data.role):
        errors["role"] = _("This seat does not belong to a group of this kind.")
    user = None
    if data.user_id is not None:
        user = eligible_users(group).filter(pk=data.user_id).first()
        if user is None:
            errors["user"] = _("Choose an account of this township or county.")
        elif group.members.filter(user=user, role=data.role, active=True).exists():
            errors["user"] = _("This account already holds this seat.")
        if data.outsider_name.strip() or data.outsider_phone.strip():
            errors["outsider_name"] = _("Give either a platform account or an outside member's name, not both.")
    elif not data.outsider_name.strip():
        errors["outsider_name"] = _("Give the name of the outside member, or choose a platform account.")
    phone = data.outsider_phone.strip()
    if phone and not all(c.isdigit() or c in "+- " for c in phone):
        errors["outsider_phone"] = _("Enter a phone number of digits only.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        member = GroupMember.objects.create(
            group=group, region_id=group.region_id, role=data.role, user=user,
            outsider_name=data.outsider_name.strip(), outsider_phone=phone, unit=data.unit.strip()[:128],
            joined_on=data.joined_on or timezone.localdate(),
        )
        audit.record(AuditAction.CREATE, actor=actor, obj=member, detail={
            "group": group.pk, "role": member.role, "platform_user": user.pk if user else None,
            "fields": [f for f in GroupMember.PII_FIELDS if getattr(member, f)],
        })
    return member


def member_rows(actor: Any, group: ManagementGroup) -> list[dict[str, Any]]:
    """The active members as the actor may see them (outsiders' name and phone masked per role)."""
    rows = []
    for member in group.members.filter(active=True).select_related("user", "user__organisation"):
        shown = present(actor, member)
        rows.append({
            "member": member, "seat": seat_label(member.role),
            "name": str(member.user) if member.user else shown.get("outsider_name"),
            "phone": None if member.user else shown.get("outsider_phone"),
            "unit": member.unit or (member.user.organisation.name if member.user and member.user.organisation else ""),
        })
    return rows


# --------------------------------------------------------------------------------------------------
# Meetings
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingInput:
    """A meeting and its minutes."""

    held_on: date
    topics: str
    decisions: str = ""
    place: str = ""
    attendee_ids: tuple[int, ...] = ()


def _identity_message(kind: str) -> str:
    return {
        "id_number": _("Minutes must not contain ID numbers; name patients by register number."),
        "phone": _("Minutes must not contain phone numbers."),
        "name": _("Minutes must not contain patients' names; use their register numbers."),
    }[kind]


def township_register(group: ManagementGroup) -> tuple[list[str], list[str]]:
    """Names (decrypted, for the minutes check only) and register numbers of the township's patients."""
    persons = list(Person.objects.filter(patient__township_code=group.township_code).select_related("patient"))
    return [p.name for p in persons], [p.patient.register_number for p in persons]


def check_minutes(group: ManagementGroup, **texts: str) -> None:
    """Refuse minutes that carry identity (field error naming the field and what to take out)."""
    names, numbers = township_register(group)
    errors: dict[str, str] = {}
    for field_name, text in texts.items():
        found = rules.minutes_problems(text, names, numbers)
        if found:
            errors[field_name] = _identity_message(found[0])
    if errors:
        raise ValidationError(errors)


def record_meeting(actor: Any, group: ManagementGroup, data: MeetingInput) -> Meeting:
    """Record a meeting with its attendees (members of this group) and minutes (audited)."""
    _require(actor, Meeting, "add")
    errors: dict[str, str] = {}
    if data.held_on > timezone.localdate():
        errors["held_on"] = _("The date cannot be in the future.")
    if not data.topics.strip():
        errors["topics"] = _("This field is required.")
    attendees = list(group.members.filter(pk__in=data.attendee_ids))
    if len(attendees) != len(set(data.attendee_ids)):
        errors["attendees"] = _("Choose attendees among the members of this group.")
    elif not attendees:
        errors["attendees"] = _("Choose at least one attendee.")
    if errors:
        raise ValidationError(errors)
    check_minutes(group, topics=data.topics, decisions=data.decisions, place=data.place)
    with transaction.atomic():
        meeting = Meeting.objects.create(group=group, region_id=group.region_id, held_on=data.held_on,
                                         place=data.place.strip()[:128], topics=data.topics.strip(),
                                         decisions=data.decisions.strip(), recorded_by=actor)
        meeting.attendees.set(attendees)
        audit.record(AuditAction.CREATE, actor=actor, obj=meeting, detail={"group": group.pk, "attendees": len(attendees)})
    return meeting


# --------------------------------------------------------------------------------------------------
# Joint visits
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitInput:
    """A joint visit to a patient the actor may see."""

    patient_id: int
    visited_on: date
    outcome: int
    participant_ids: tuple[int, ...] = ()
    note: str = ""
    followup_id: int | None = None


def record_visit(actor: Any, group: ManagementGroup, data: VisitInput) -> JointVisit:
    """Record a joint visit (audited). The patient must be one the actor may see, in the group's township."""
    _require(actor, JointVisit, "add")
    errors: dict[str, str] = {}
    patient = group_patients(actor, group).filter(pk=data.patient_id).first()
    if patient is None:
        errors["patient"] = _("Choose a patient of this group's township that you may see.")
    if data.visited_on > timezone.localdate():
        errors["visited_on"] = _("The date cannot be in the future.")
    if data.outcome not in VisitOutcome.values:
        errors["outcome"] = _("Choose one of the allowed values.")
    participants = list(group.members.filter(pk__in=data.participant_ids, active=True))
    if len(participants) != len(set(data.participant_ids)):
        errors["participants"] = _("Choose participants among the members of this group.")
    elif len(participants) < 2:
        errors["participants"] = _("A joint visit has at least two participants.")
    followup = None
    if data.followup_id is not None and patient is not None:
        # Only a follow-up of this patient; the link shows nothing of it (partners hold no follow-up permission).
        followup = FollowUp.objects.filter(pk=data.followup_id, patient=patient).first()
        if followup is None:
            errors["followup"] = _("No follow-up record of this patient has this number.")
    if errors:
        raise ValidationError(errors)
    assert patient is not None
    with transaction.atomic():
        visit = JointVisit.objects.create(
            group=group, patient=patient, region_id=patient.region_id, visited_on=data.visited_on,
            outcome=data.outcome, note=data.note.strip(), followup=followup, recorded_by=actor,
        )
        visit.participants.set(participants)
        audit.record(AuditAction.CREATE, actor=actor, obj=visit, detail={"group": group.pk, "patient": patient.pk,
                                                            "outcome": visit.outcome,
                                                            "participants": len(participants)})
    return visit


# --------------------------------------------------------------------------------------------------
# The group's patients: the partner's window on the register
# --------------------------------------------------------------------------------------------------


def group_patients(actor: Any, group: ManagementGroup) -> Any:
    """Patients on the register of the group's township that the actor may see (partner-narrowed)."""
    return (Patient.objects.restrict(actor, "view").filter(township_code=group.township_code)
            .exclude(status__in=OFF_REGISTER_STATUSES))


def patient_row(actor: Any, patient: Patient) -> dict[str, Any]:
    """One patient as the actor may see them: register number, then the patient's and the person's
    fields through ``present`` (hidden categories absent)."""
    shown = present(actor, patient)
    fields = [(str(getattr(Patient._meta.get_field(f), "verbose_name", f)), f, v) for f, v in shown.items()]
    return {"patient": patient, "shown": shown, "fields": fields, "person": present(actor, patient.person)}


def list_group_patients(actor: Any, group: ManagementGroup, qs: Any) -> list[dict[str, Any]]:
    """Rows for one page of the group's patients; audited as one list event."""
    patients = list(qs)
    audit.record_many(AuditAction.LIST, patients, actor=actor, object_type="patients.patient",
                      detail={"via": "caregroup", "group": group.pk})
    return [patient_row(actor, p) for p in patients]


def view_group_patient(actor: Any, group: ManagementGroup, patient: Patient) -> dict[str, Any]:
    """One patient opened from the group page; audited as a view."""
    audit.record(AuditAction.VIEW, actor=actor, obj=patient, detail={"via": "caregroup", "group": group.pk})
    return patient_row(actor, patient)
