"""Writes of practitioners: registration, workplaces, credentials (add, revoke), training (audited).

意见 17-18: practitioners' qualifications, training and continuing education are registered;
credential types are data (credential_types.json), so the end of the 心理咨询师 national
qualification in 2017 and the schemes that followed are entries, not code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.core import audit
from xinqiao.core.models import AuditAction
from xinqiao.registry import rules
from xinqiao.registry.models import (
    Credential,
    Institution,
    InstitutionStatus,
    Practice,
    Practitioner,
    PractitionerStatus,
    Profession,
    TrainingRecord,
)
from xinqiao.registry.models.people import number_index
from xinqiao.registry.services import require


@dataclass(frozen=True)
class PractitionerInput:
    name: str
    profession: str
    institution_id: int
    post: str = ""
    started_on: date | None = None


def _institution_in_scope(actor: Any, institution_id: int | None) -> Institution:
    institution = Institution.objects.restrict(actor).filter(pk=institution_id).first() if institution_id else None
    if institution is None:
        raise ValidationError({"institution": _("Workplace: choose a registered institution in your region.")})
    if institution.status == InstitutionStatus.REMOVED:
        raise ValidationError({"institution": _("Workplace: this institution was removed from the register.")})
    return institution


def register_practitioner(actor: Any, data: PractitionerInput) -> Practitioner:
    """Register a practitioner at their main workplace (the workplace's region becomes theirs)."""
    require(actor, "registry.add_practitioner")
    errors = {}
    name = data.name.strip()
    if not name or len(name) > 64:
        errors["name"] = _("Name: between 1 and 64 characters.")
    if data.profession not in Profession.values:
        errors["profession"] = _("Profession: choose one of the listed professions.")
    if errors:
        raise ValidationError(errors)
    institution = _institution_in_scope(actor, data.institution_id)
    with transaction.atomic():
        practitioner = Practitioner.objects.create(name=name, profession=data.profession,
                                                   region_id=institution.region_id)
        Practice.objects.create(practitioner=practitioner, institution=institution, post=data.post.strip()[:64],
                                is_primary=True, started_on=data.started_on)
        audit.record(AuditAction.CREATE, obj=practitioner,
                     detail={"profession": data.profession, "institution": institution.pk})
    return practitioner


def add_practice(actor: Any, practitioner: Practitioner, institution_id: int, *, post: str = "",
                 started_on: date | None = None, primary: bool = False) -> Practice:
    """Another workplace (多点执业); ``primary`` moves the practitioner's region to it."""
    require(actor, "registry.change_practitioner")
    if not Practitioner.objects.restrict(actor, "change").filter(pk=practitioner.pk).exists():
        raise PermissionDenied
    institution = _institution_in_scope(actor, institution_id)
    with transaction.atomic():
        if primary:
            practitioner.practices.update(is_primary=False)
            practitioner.region_id = institution.region_id
            practitioner.save(update_fields=["region", "updated_at"])
        practice = Practice.objects.create(practitioner=practitioner, institution=institution, post=post[:64],
                                           is_primary=primary, started_on=started_on)
        audit.record(AuditAction.CHANGE, obj=practitioner, detail={"fields": ["practices"],
                                                                   "institution": institution.pk})
    return practice


def end_practice(actor: Any, practice: Practice, *, ended_on: date) -> Practice:
    """The practitioner no longer works there (their public look-up stops naming the place)."""
    require(actor, "registry.change_practitioner")
    if not Practitioner.objects.restrict(actor, "change").filter(pk=practice.practitioner_id).exists():
        raise PermissionDenied
    if practice.started_on and ended_on < practice.started_on:
        raise ValidationError({"ended_on": _("Until: cannot be before the start.")})
    with transaction.atomic():
        practice.ended_on = ended_on
        practice.save(update_fields=["ended_on"])
        practitioner = practice.practitioner
        if not practitioner.practices.filter(ended_on__isnull=True).exists():
            practitioner.status = PractitionerStatus.LEFT
            practitioner.save(update_fields=["status", "updated_at"])
        audit.record(AuditAction.CHANGE, obj=practitioner, detail={"fields": ["practices"], "ended": practice.pk})
    return practice


@dataclass(frozen=True)
class CredentialInput:
    type_code: str
    number: str
    issuer: str = ""
    scope: str = ""
    issue_date: date | None = None
    expiry_date: date | None = None


def credential_problem_message(code: str) -> str:
    return {
        "profession_mismatch": _("Credential type: not a credential of this practitioner's profession."),
        "in_future": _("Issued: the date cannot be in the future."),
        "discontinued": _("Issued: no credential of this type can have been issued on that date (the scheme "
                          "had ended)."),
        "before_issue": _("Expires: cannot be before the issue date."),
    }[code]


def add_credential(actor: Any, practitioner: Practitioner, data: CredentialInput) -> Credential:
    """Register a qualification; the number is unique within its type."""
    require(actor, "registry.add_credential")
    if not Practitioner.objects.restrict(actor).filter(pk=practitioner.pk).exists():
        raise PermissionDenied
    ctype = rules.credential_types().get(data.type_code)
    if ctype is None:
        raise ValidationError({"type_code": _("Credential type: choose one of the listed types.")})
    number = data.number.strip()
    errors: dict[str, str] = {}
    if not rules.normalise_number(number) or len(number) > 64:
        errors["number"] = _("Certificate number: between 1 and 64 characters.")
    for field, code in rules.credential_problems(ctype, profession=practitioner.profession,
                                                 issue_date=data.issue_date, expiry_date=data.expiry_date,
                                                 today=timezone.localdate()):
        errors.setdefault(field, credential_problem_message(code))
    if errors:
        raise ValidationError(errors)
    expiry = data.expiry_date
    if expiry is None and data.issue_date is not None:
        expiry = rules.default_expiry(ctype, data.issue_date)
    if Credential.objects.filter(type_code=ctype.code, number_index=number_index(ctype.code, number)).exists():
        raise ValidationError({"number": _("Certificate number: a credential of this type with this number is "
                                           "already registered.")})
    try:
        with transaction.atomic():
            credential = Credential.objects.create(
                practitioner=practitioner, type_code=ctype.code, number=number,
                issuer=(data.issuer or ctype.issuer).strip()[:128], scope=data.scope.strip()[:128],
                issue_date=data.issue_date, expiry_date=expiry)
            audit.record(AuditAction.CREATE, obj=credential, region_code=practitioner.region_id,
                         detail={"practitioner": practitioner.pk, "type": ctype.code})
    except IntegrityError:
        raise ValidationError({"number": _("Certificate number: a credential of this type with this number is "
                                           "already registered.")}) from None
    return credential


def revoke_credential(actor: Any, credential: Credential, *, reason: str) -> Credential:
    """Record that the issuer revoked a credential (the public look-up then answers "revoked")."""
    require(actor, "registry.change_credential")
    if not Practitioner.objects.restrict(actor).filter(pk=credential.practitioner_id).exists():
        raise PermissionDenied
    if len(reason.strip()) < 2:
        raise ValidationError({"reason": _("Reason: please give a reason.")})
    if credential.revoked_at is not None:
        raise ValidationError({"reason": _("Reason: this credential is already revoked.")})
    with transaction.atomic():
        credential.revoked_at = timezone.now()
        credential.revoke_reason = reason.strip()
        credential.save(update_fields=["revoked_at", "revoke_reason"])
        audit.record(AuditAction.CHANGE, obj=credential, region_code=credential.practitioner.region_id,
                     detail={"fields": ["revoked_at"]})
    return credential


def add_training(actor: Any, practitioner: Practitioner, *, kind: str, title: str, completed_on: date,
                 hours: Decimal, provider: str = "") -> TrainingRecord:
    """Training, continuing education or supervision hours."""
    require(actor, "registry.change_practitioner")
    if not Practitioner.objects.restrict(actor, "change").filter(pk=practitioner.pk).exists():
        raise PermissionDenied
    errors = {}
    if kind not in TrainingRecord.Kind.values:
        errors["kind"] = _("Kind: choose one of the listed kinds.")
    if not title.strip():
        errors["title"] = _("Course: this field is required.")
    if hours <= 0 or hours > 1000:
        errors["hours"] = _("Hours: more than 0 and at most 1,000.")
    if completed_on > timezone.localdate():
        errors["completed_on"] = _("Completed: the date cannot be in the future.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        record = TrainingRecord.objects.create(practitioner=practitioner, kind=kind, title=title.strip()[:128],
                                               provider=provider.strip()[:128], completed_on=completed_on,
                                               hours=hours)
        audit.record(AuditAction.CHANGE, obj=practitioner, detail={"fields": ["training"], "hours": str(hours)})
    return record
