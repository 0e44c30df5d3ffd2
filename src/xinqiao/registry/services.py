"""Writes of the registry's institutions: registration applications and their workflow, approved
details and their versions, 示范单位 designation. Each action is one transaction with its audit event.

意见 19: "建立健全心理健康服务机构和人员信息管理体系"; the issue: "an institution applies, the
responsible health authority reviews and approves or rejects with a reason; changes after approval
are versioned and audited". The workflow is ``rules.workflow("application")`` (workflow.json).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.core import audit
from xinqiao.core.models import AuditAction, Organisation, Region, RegionLevel
from xinqiao.core.notifications import Notice, notify
from xinqiao.core.regions_data import level_of
from xinqiao.core.scope import in_scope
from xinqiao.registry import rules
from xinqiao.registry.models import (
    ApplicationEvent,
    ApplicationKind,
    ApplicationStatus,
    HospitalLevel,
    Institution,
    InstitutionKind,
    InstitutionStatus,
    InstitutionVersion,
    LicensingStatus,
    OpeningHours,
    PointService,
    Population,
    Recommendation,
    RegistrationApplication,
    ServiceCode,
    ServicePoint,
)
from xinqiao.registry.models.institutions import own_organisation_only

# --------------------------------------------------------------------------------------------------
# Refusals shared by every workflow
# --------------------------------------------------------------------------------------------------


def refusal_message(code: str) -> str:
    """The user-facing message for a ``rules.TransitionRefused`` code."""
    messages = {
        "unknown_action": _("Action: this action does not exist."),
        "wrong_kind": _("Action: this action does not apply to this kind of record."),
        "wrong_state": _("Action: this is not possible in the record's current state."),
        "not_party": _("Action: only the applicant or the institution concerned can do this."),
        "conflict": _("Action: you cannot decide on something you applied for, reviewed or proposed yourself; "
                      "a colleague must."),
        "reason_required": _("Reason: please give a reason."),
    }
    return messages.get(code, _("Action: not allowed."))


def check(machine: str, state: str, action: str, actor: Any, *, parties: set[str], reason: str = "",
          kind: str | None = None) -> rules.Transition:
    """``rules.check_transition`` for ``actor``: a missing permission is ``PermissionDenied`` (403),
    anything else a ``ValidationError`` naming the field (``action`` or ``reason``)."""
    try:
        return rules.check_transition(rules.workflow(machine), state, action, has_perm=actor.has_perm,
                                      parties=parties, reason=reason, kind=kind)
    except rules.TransitionRefused as exc:
        if exc.code == "permission":
            raise PermissionDenied from None
        raise ValidationError({exc.field: refusal_message(exc.code)}) from None


def require(actor: Any, permission: str) -> None:
    """``PermissionDenied`` unless the actor holds ``permission``."""
    if not actor.has_perm(permission):
        raise PermissionDenied


# --------------------------------------------------------------------------------------------------
# Institution details: what an application proposes and an approval applies
# --------------------------------------------------------------------------------------------------

KIND_REGION_LEVEL = {
    # The most general region level an institution of this kind may sit at (a village room is in a
    # township; a township management group is one per township).
    InstitutionKind.COUNSELLING_ROOM: RegionLevel.TOWNSHIP,
    InstitutionKind.MANAGEMENT_GROUP: RegionLevel.TOWNSHIP,
    InstitutionKind.COMMUNITY_HEALTH_CENTRE: RegionLevel.TOWNSHIP,
    InstitutionKind.TOWNSHIP_HEALTH_CENTRE: RegionLevel.TOWNSHIP,
}
PHONE = re.compile(r"^[0-9+\-\s()]{3,32}$")


@dataclass
class InstitutionInput:
    """The registered details of an institution and its main service point (JSON-able)."""

    name: str
    kind: str
    region_code: str
    address: str = ""
    phone: str = ""
    email: str = ""
    unified_credit_code: str = ""
    latitude: float | None = None
    longitude: float | None = None
    open_24h: bool = False
    hours: str = ""
    hours_note: str = ""
    services: list[str] = field(default_factory=list)
    populations: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    beds: int | None = None
    hospital_level: int | None = None
    students: int | None = None
    counsellors: int | None = None
    business_licence_number: str = ""
    licence_scope: str = ""
    licensing_status: str = ""
    village_code: str = ""
    village_name: str = ""
    own_organisation: bool = False

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> InstitutionInput:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def validate_details(data: InstitutionInput) -> InstitutionInput:
    """Check and normalise proposed details; ``ValidationError`` names every wrong field."""
    errors: dict[str, str] = {}
    data.name = data.name.strip()
    if not data.name:
        errors["name"] = _("Name: this field is required.")
    elif len(data.name) > 128:
        errors["name"] = _("Name: at most 128 characters.")
    if data.kind not in InstitutionKind.values:
        errors["kind"] = _("Kind: choose one of the listed kinds.")
    region = Region.objects.filter(code=data.region_code).first() if data.region_code else None
    if region is None:
        errors["region_code"] = _("Region: choose a valid region.")
    elif data.kind in KIND_REGION_LEVEL and region.level < KIND_REGION_LEVEL[InstitutionKind(data.kind)]:
        errors["region_code"] = _("Region: an institution of this kind is registered in its township.")
    if data.phone and not PHONE.match(data.phone):
        errors["phone"] = _("Phone: digits, spaces, brackets, + and - only.")
    if data.email:
        try:
            validate_email(data.email)
        except ValidationError:
            errors["email"] = _("Email: enter a valid address.")
    if (data.latitude is None) != (data.longitude is None) or (
            data.latitude is not None and not rules.valid_coordinates(data.latitude, data.longitude)):
        errors["latitude"] = _("Coordinates: give both latitude (−90 to 90) and longitude (−180 to 180), or neither.")
    try:
        data.hours = rules.format_hours(rules.parse_hours(data.hours))
    except rules.HoursError as exc:
        errors["hours"] = _("Opening hours: “%(part)s” cannot be read; write e.g. “1-5 08:00-12:00,14:00-17:30; "
                            "6 09:00-12:00” (1 = Monday … 7 = Sunday).") % {"part": exc.fragment}
    bad = [s for s in data.services if s not in ServiceCode.values]
    if bad:
        errors["services"] = _("Services: unknown service “%(code)s”.") % {"code": bad[0]}
    data.services = sorted(set(data.services))
    bad = [p for p in data.populations if p not in Population.values]
    if bad:
        errors["populations"] = _("Populations served: unknown group “%(code)s”.") % {"code": bad[0]}
    data.populations = sorted(set(data.populations))
    data.languages = [x.strip() for x in data.languages if x.strip()][:10]
    if data.hospital_level is not None and data.hospital_level not in HospitalLevel.values:
        errors["hospital_level"] = _("Hospital level: 1, 2 or 3 (一级, 二级, 三级).")
    for name in ("beds", "students", "counsellors"):
        value = getattr(data, name)
        if value is not None and (not isinstance(value, int) or value < 0):
            errors[name] = _("%(field)s: enter a whole number, 0 or more.") % {"field": name}
    if data.kind == InstitutionKind.UNIVERSITY_CENTRE and (data.students is None or data.counsellors is None):
        errors.setdefault("students", _("Students: a university counselling centre gives its number of students "
                                        "and of full-time counselling staff."))
    if data.kind == InstitutionKind.COUNSELLING_AGENCY and not data.business_licence_number.strip():
        errors["business_licence_number"] = _("Business licence number: required for a social counselling agency.")
    if data.licensing_status and data.licensing_status not in LicensingStatus.values:
        errors["licensing_status"] = _("Licensing status: choose one of the listed values.")
    if data.village_code:
        if region is None or not rules.village_in_township(data.village_code, region.code):
            errors["village_code"] = _("Village code: the 12-digit code of a village or community in the chosen "
                                       "township.")
    if errors:
        raise ValidationError(errors)
    return data


def snapshot(institution: Institution) -> dict[str, Any]:
    """The registered details now, in the shape of ``InstitutionInput`` (plus status and flags)."""
    org = institution.organisation
    point = institution.points.filter(code="main").first()
    data = InstitutionInput(
        name=org.name, kind=institution.kind, region_code=institution.region_id, address=org.address,
        phone=org.phone, email=org.email, unified_credit_code=org.unified_credit_code,
        beds=institution.beds, hospital_level=institution.hospital_level, students=institution.students,
        counsellors=institution.counsellors,
        business_licence_number=institution.business_licence_number, licence_scope=institution.licence_scope,
        licensing_status=institution.licensing_status, village_code=institution.village_code,
        village_name=institution.village_name,
    ).to_data()
    data.pop("own_organisation")
    if point is not None:
        data.update(latitude=point.latitude, longitude=point.longitude, open_24h=point.open_24h,
                    hours=point.hours_text, hours_note=point.hours_note,
                    services=sorted(point.services.values_list("code", flat=True)),
                    populations=sorted(point.populations), languages=list(point.languages))
    data.update(status=institution.status, demonstration=institution.demonstration,
                demonstration_year=institution.demonstration_year, grade=institution.grade)
    return data


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Keys whose values differ (the version's "what changed")."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def record_version(institution: Institution, *, source: str, actor: Any, before: dict[str, Any] | None,
                   application: RegistrationApplication | None = None, sanction: Any = None) -> InstitutionVersion:
    """Store the institution's state as its next version, with what changed, and audit it."""
    after = snapshot(institution)
    changed = sorted(after) if before is None else changed_fields(before, after)
    number = 1 if before is None else institution.version + 1
    if before is not None:
        institution.version = number
        institution.save(update_fields=["version", "updated_at"])
    version = InstitutionVersion.objects.create(
        institution=institution, number=number, data=after, changed=changed, source=source,
        application=application, sanction=sanction, created_by=actor if getattr(actor, "pk", None) else None)
    audit.record(AuditAction.CREATE if before is None else AuditAction.CHANGE, obj=institution,
                 detail={"version": number, "source": source, "fields": changed}, actor=actor)
    return version


def _sync_point(point: ServicePoint, data: InstitutionInput, public: bool) -> None:
    point.name = data.name
    point.address = data.address
    point.phone = data.phone
    point.latitude, point.longitude = data.latitude, data.longitude
    point.open_24h = data.open_24h
    point.hours_text = data.hours
    point.hours_note = data.hours_note
    point.populations = data.populations
    point.languages = data.languages
    point.public = public
    point.region_id = data.region_code
    point.save()
    point.services.all().delete()
    PointService.objects.bulk_create([PointService(point=point, code=c) for c in data.services])
    point.hours.all().delete()
    OpeningHours.objects.bulk_create([OpeningHours(point=point, weekday=i.weekday, opens=i.opens, closes=i.closes)
                                      for i in rules.parse_hours(data.hours)])


def _new_registration_number(institution: Institution) -> str:
    code = institution.region_id[:6].ljust(6, "0")
    return f"{code}-{institution.pk:06d}"


def apply_details(data: InstitutionInput, *, actor: Any, institution: Institution | None = None,
                  parent: Organisation | None = None, organisation: Organisation | None = None) -> Institution:
    """Write approved details: create the organisation (or use ``organisation``), the institution and
    its main service point, or update them. The caller records the version and holds the transaction."""
    kind_conf = rules.kinds()[data.kind]
    level = level_of(data.region_code)
    if institution is None:
        if organisation is None:
            if Organisation.objects.filter(region_id=data.region_code, name=data.name).exists():
                raise ValidationError({"name": _("Name: an organisation of this name is already registered in "
                                                 "this region.")})
            organisation = Organisation(region_id=data.region_code, name=data.name, parent=parent)
        elif Institution.objects.filter(organisation=organisation).exists():
            raise ValidationError({"name": _("Name: this organisation is already registered.")})
        institution = Institution(organisation=organisation, registration_number=f"tmp-{uuid.uuid4().hex[:20]}")
    org = institution.organisation
    if org.pk and (org.name != data.name or org.region_id != data.region_code) and Organisation.objects.filter(
            region_id=data.region_code, name=data.name).exclude(pk=org.pk).exists():
        raise ValidationError({"name": _("Name: an organisation of this name is already registered in this region.")})
    org.name = data.name
    org.region_id = data.region_code
    if not org.pk:  # an existing organisation keeps its type (a school registering its own room stays a school)
        org.org_type = rules.org_type_for(data.kind, level)
    org.address, org.phone, org.email = data.address, data.phone, data.email
    org.unified_credit_code = data.unified_credit_code
    org.is_active = True
    org.save()
    institution.organisation = org
    institution.kind = data.kind
    institution.region_id = data.region_code
    for name in ("beds", "hospital_level", "students", "counsellors", "business_licence_number", "licence_scope",
                 "licensing_status", "village_code", "village_name"):
        setattr(institution, name, getattr(data, name))
    is_new = institution.pk is None
    institution.save()
    if is_new:
        institution.registration_number = _new_registration_number(institution)
        institution.save(update_fields=["registration_number"])
    point = institution.points.filter(code="main").first() or ServicePoint(institution=institution, code="main")
    _sync_point(point, data, public=bool(kind_conf.get("public")) and institution.status == InstitutionStatus.ACTIVE)
    return institution


# --------------------------------------------------------------------------------------------------
# Applications
# --------------------------------------------------------------------------------------------------


def _parties(actor: Any, app: RegistrationApplication) -> set[str]:
    parties = set()
    if actor.pk == app.applicant_id:
        parties.add("applicant")
    elif (app.applicant_organisation_id and actor.organisation_id == app.applicant_organisation_id
          and own_organisation_only(actor)):
        parties.add("applicant")  # a colleague of the applying institution
    if app.reviewed_by_id and actor.pk == app.reviewed_by_id:
        parties.add("reviewer")
    return parties


def application_parties(actor: Any, app: RegistrationApplication) -> set[str]:
    """The parties ``actor`` plays on ``app`` (for the page's available actions)."""
    return _parties(actor, app)


OPEN_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.REVIEWED, ApplicationStatus.RETURNED)


def submit_application(actor: Any, data: InstitutionInput, *, institution: Institution | None = None,
                       form_key: str | None = None) -> tuple[RegistrationApplication, bool]:
    """An institution (or the county centre on its behalf, from paper) applies to register or to
    change its registered details. Returns (application, created); a resent form returns the first."""
    require(actor, "registry.add_registrationapplication")
    if form_key:
        seen = RegistrationApplication.objects.filter(form_key=form_key).first()
        if seen is not None:
            if seen.applicant_id != actor.pk:
                raise ValidationError({"form_key": _("This form was already sent by someone else.")})
            return seen, False
    staff = own_organisation_only(actor)
    if staff and actor.organisation_id is None:
        raise ValidationError({"organisation": _("Organisation: your account belongs to no organisation, so you "
                                                 "cannot apply for one. Ask your administrator.")})
    data = validate_details(data)
    if not in_scope(actor, data.region_code):
        raise ValidationError({"region_code": _("Region: choose a region inside your own.")})
    if institution is not None:
        if not Institution.objects.restrict(actor).filter(pk=institution.pk).exists():
            raise PermissionDenied
        if institution.status == InstitutionStatus.REMOVED:
            raise ValidationError({"institution": _("Institution: removed from the register; it must apply anew.")})
        if institution.applications.filter(status__in=OPEN_STATUSES).exists():
            raise ValidationError({"institution": _("Institution: another application for it is still open.")})
        if data.kind != institution.kind:
            raise ValidationError({"kind": _("Kind: the kind of a registered institution cannot change; close it "
                                             "and register anew.")})
        data.own_organisation = False
    elif data.own_organisation:
        org = actor.organisation
        if not staff or org is None:
            raise ValidationError({"own_organisation": _("Register my organisation: only staff of an "
                                                         "organisation can register it.")})
        if Institution.objects.filter(organisation=org).exists():
            raise ValidationError({"own_organisation": _("Register my organisation: it is already registered.")})
        if RegistrationApplication.objects.filter(applicant_organisation=org, kind=ApplicationKind.NEW,
                                                  status__in=OPEN_STATUSES, data__own_organisation=True).exists():
            raise ValidationError({"own_organisation": _("Register my organisation: an application is already "
                                                         "open.")})
    elif Organisation.objects.filter(region_id=data.region_code, name=data.name).exists():
        raise ValidationError({"name": _("Name: an organisation of this name is already registered in this region.")})
    with transaction.atomic():
        app = RegistrationApplication(
            kind=ApplicationKind.CHANGE if institution else ApplicationKind.NEW, institution=institution,
            applicant=actor, applicant_organisation=actor.organisation if staff else None, data=data.to_data(),
            region_id=data.region_code, form_key=form_key or None)
        try:
            with transaction.atomic():
                app.save()
        except IntegrityError:
            seen = RegistrationApplication.objects.filter(form_key=form_key).first()
            if seen is None or seen.applicant_id != actor.pk:
                raise
            return seen, False
        ApplicationEvent.objects.create(application=app, action="submit", to_status=app.status, actor=actor)
        audit.record(AuditAction.CREATE, obj=app, detail={"kind": app.kind, "fields": sorted(app.data)})
    return app, True


def proposed_changes(app: RegistrationApplication) -> list[tuple[str, Any, Any]]:
    """For a change application: (field, registered value, proposed value) of every difference."""
    if app.institution is None:
        return []
    current = snapshot(app.institution)
    return [(k, current.get(k), app.data.get(k)) for k in changed_fields(
        {k: current.get(k) for k in app.data if k != "own_organisation"},
        {k: v for k, v in app.data.items() if k != "own_organisation"})]


def transition_application(actor: Any, app: RegistrationApplication, action: str, *, reason: str = "",
                           recommendation: str = "") -> RegistrationApplication:
    """Take one step of the application workflow (workflow.json ``application``), audited.

    ``review`` needs a recommendation; ``return`` and ``reject`` a reason; ``approve`` writes the
    details (a new institution, or a new version of the registered one) in the same transaction.
    """
    if not in_scope(actor, app.region_id):
        raise PermissionDenied
    with transaction.atomic():
        app = RegistrationApplication.objects.select_for_update().get(pk=app.pk)
        transition = check("application", app.status, action, actor, parties=_parties(actor, app), reason=reason)
        if action == "review" and recommendation not in Recommendation.values:
            raise ValidationError({"recommendation": _("Recommendation: choose approve or reject.")})
        now = timezone.now()
        before = app.status
        if action in ("review", "return"):
            app.reviewed_by, app.reviewed_at = actor, now
            if action == "review":
                app.recommendation = recommendation
        if action in ("approve", "reject"):
            app.decided_by, app.decided_at = actor, now
        if reason.strip():
            app.reason = reason.strip()
        app.status = transition.target
        if action == "approve":
            _approve(actor, app)
        app.save()
        ApplicationEvent.objects.create(application=app, action=action, from_status=before, to_status=app.status,
                                        actor=actor, reason=reason.strip())
        audit.record(AuditAction.CHANGE, obj=app, detail={"transition": action, "from": before, "to": app.status,
                                                          "recommendation": app.recommendation})
        if action in ("return", "approve", "reject"):
            notify_applicant(app, action)
    return app


def _approve(actor: Any, app: RegistrationApplication) -> None:
    data = InstitutionInput.from_data(app.data)
    data = validate_details(data)  # the rules may have changed since it was submitted
    if app.institution is not None:
        institution = Institution.objects.select_for_update().get(pk=app.institution_id)
        before = snapshot(institution)
        apply_details(data, actor=actor, institution=institution)
        record_version(institution, source=InstitutionVersion.Source.APPLICATION, actor=actor, before=before,
                       application=app)
        return
    own = app.applicant_organisation if data.own_organisation else None
    parent = None if own is not None else app.applicant_organisation
    institution = apply_details(data, actor=actor, parent=parent, organisation=own)
    institution.approved_at, institution.approved_by = timezone.now(), actor
    institution.save(update_fields=["approved_at", "approved_by"])
    app.institution = institution
    record_version(institution, source=InstitutionVersion.Source.APPLICATION, actor=actor, before=None,
                   application=app)


def notify_applicant(app: RegistrationApplication, action: str) -> None:
    """Tell the applicant the application was returned, approved or rejected (after commit)."""
    titles = {
        "return": _("Your registration application was returned for correction"),
        "approve": _("Your registration application was approved"),
        "reject": _("Your registration application was rejected"),
    }
    from django.urls import reverse

    notice = Notice(kind=f"registry.application.{action}", title=titles[action],
                    link=reverse("registry:application_detail", kwargs={"pk": app.pk}), recipient_id=app.applicant_id,
                    subject_type="registry.registrationapplication", subject_id=str(app.pk),
                    dedupe_key=f"registry:application:{app.pk}:{action}:{app.events.count()}")
    transaction.on_commit(lambda: notify(notice))


# --------------------------------------------------------------------------------------------------
# Status changes and designation
# --------------------------------------------------------------------------------------------------


def set_institution_status(institution: Institution, status: str, *, actor: Any, source: str,
                           sanction: Any = None) -> None:
    """Suspend, remove, close or reactivate: points leave or rejoin the finder; versioned and audited."""
    before = snapshot(institution)
    institution.status = status
    institution.save(update_fields=["status", "updated_at"])
    public = bool(rules.kinds()[institution.kind].get("public")) and status == InstitutionStatus.ACTIVE
    institution.points.update(public=public, is_active=status in (InstitutionStatus.ACTIVE,
                                                                   InstitutionStatus.SUSPENDED))
    record_version(institution, source=source, actor=actor, before=before, sanction=sanction)


def designate_demonstration(actor: Any, institution: Institution, *, year: int | None, on: bool = True) -> None:
    """Mark (or unmark) an institution as a 示范单位 — the registering authority's decision."""
    require(actor, "registry.decide_registrationapplication")
    if not Institution.objects.restrict(actor).filter(pk=institution.pk).exists():
        raise PermissionDenied
    if on and institution.status != InstitutionStatus.ACTIVE:
        raise ValidationError({"demonstration": _("Demonstration unit: only an active institution can be one.")})
    with transaction.atomic():
        institution = Institution.objects.select_for_update().get(pk=institution.pk)
        before = snapshot(institution)
        institution.demonstration = on
        institution.demonstration_year = year if on else None
        institution.save(update_fields=["demonstration", "demonstration_year", "updated_at"])
        record_version(institution, source=InstitutionVersion.Source.DESIGNATION, actor=actor, before=before)


def new_form_key() -> str:
    """A random key a form carries so that a resent form is stored once."""
    return uuid.uuid4().hex
