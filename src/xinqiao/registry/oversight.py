"""Writes of supervision: evaluations and inspections, findings, complaints, sanctions (audited).

意见 19: periodic evaluation and supervision, "优胜劣汰"; 意见 24 and 规划 五: inspection by the
health authorities. Scoring is ``rules.score_checklist`` over evaluation_checklist.json; the
finding, complaint and sanction steps are ``workflow.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xinqiao.core import audit
from xinqiao.core.models import AuditAction, Region
from xinqiao.core.request_context import RequestInfo, reset_request_info, set_request_info
from xinqiao.registry import rules
from xinqiao.registry.models import (
    Complaint,
    ComplaintCategory,
    Evaluation,
    EvaluationKind,
    Finding,
    Institution,
    InstitutionStatus,
    InstitutionVersion,
    Practitioner,
    PractitionerStatus,
    Sanction,
    SanctionKind,
)
from xinqiao.registry.models.institutions import own_organisation_only
from xinqiao.registry.services import check, record_version, require, set_institution_status, snapshot

# --------------------------------------------------------------------------------------------------
# Evaluations and inspections
# --------------------------------------------------------------------------------------------------


def _reachable(actor: Any, model: Any, pk: int, action: str = "view") -> None:
    if not model.objects.restrict(actor, action).filter(pk=pk).exists():
        raise PermissionDenied


def start_evaluation(actor: Any, institution: Institution, *, kind: str, visited_on: date) -> Evaluation:
    """Open a draft evaluation or inspection of an institution in the actor's region."""
    require(actor, "registry.add_evaluation")
    _reachable(actor, Institution, institution.pk)
    if kind not in EvaluationKind.values:
        raise ValidationError({"kind": _("Kind: choose one of the listed kinds.")})
    if visited_on > timezone.localdate():
        raise ValidationError({"visited_on": _("Visited on: the date cannot be in the future.")})
    cl = rules.checklist()
    with transaction.atomic():
        evaluation = Evaluation.objects.create(
            institution=institution, kind=kind, checklist_id=cl.id, checklist_version=cl.version,
            visited_on=visited_on, evaluator=actor, region_id=institution.region_id)
        audit.record(AuditAction.CREATE, obj=evaluation, detail={"institution": institution.pk, "kind": kind})
    return evaluation


def _score_errors(exc: rules.ScoreError) -> ValidationError:
    messages = {
        "missing": _("Score of “%(item)s”: give a score for every item before finalising."),
        "out_of_range": _("Score of “%(item)s”: from 0 up to the item's points."),
        "unknown_item": _("Score of “%(item)s”: not an item of this checklist."),
    }
    return ValidationError({f"score.{exc.item}": messages[exc.code] % {"item": exc.item}})


def record_scores(actor: Any, evaluation: Evaluation, scores: Mapping[str, float | None], *, summary: str = "",
                  finalise: bool = False) -> Evaluation:
    """Save item scores of a draft; ``finalise`` checks them complete, grades, and (for a periodic
    evaluation) sets the institution's public grade as a new version."""
    require(actor, "registry.change_evaluation")
    _reachable(actor, Evaluation, evaluation.pk, "change")
    cl = rules.checklist()
    if evaluation.checklist_id != cl.id or evaluation.checklist_version != cl.version:
        raise ValidationError({"scores": _("Scores: this draft was opened with another checklist version; "
                                           "open a new evaluation.")})
    clean = {k: v for k, v in scores.items() if v is not None}
    try:  # range checks on whatever is given, completeness only on finalising
        for code, value in clean.items():
            item = cl.item(code)
            if not 0 <= float(value) <= item.points:
                raise rules.ScoreError(code, "out_of_range")
    except KeyError as exc:
        raise _score_errors(rules.ScoreError(str(exc.args[0]), "unknown_item")) from None
    except rules.ScoreError as exc:
        raise _score_errors(exc) from None
    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
        if evaluation.status != Evaluation.Status.DRAFT:
            raise ValidationError({"scores": _("Scores: a final evaluation cannot be changed.")})
        evaluation.scores = {k: float(v) for k, v in clean.items()}
        evaluation.summary = summary.strip()
        fields = ["scores", "summary"]
        if finalise:
            try:
                scored = rules.score_checklist(cl, evaluation.scores)
            except rules.ScoreError as exc:
                raise _score_errors(exc) from None
            evaluation.total, evaluation.max_total = scored.total, scored.max_total
            evaluation.percent, evaluation.grade = scored.percent, scored.grade
            evaluation.status, evaluation.finalised_at = Evaluation.Status.FINAL, timezone.now()
            fields += ["total", "max_total", "percent", "grade", "status", "finalised_at"]
        evaluation.save(update_fields=fields)
        audit.record(AuditAction.CHANGE, obj=evaluation, detail={"fields": fields, "grade": evaluation.grade})
        if finalise and evaluation.kind == EvaluationKind.EVALUATION:
            institution = Institution.objects.select_for_update().get(pk=evaluation.institution_id)
            before = snapshot(institution)
            institution.grade, institution.graded_on = evaluation.grade, evaluation.visited_on
            institution.save(update_fields=["grade", "graded_on", "updated_at"])
            record_version(institution, source=InstitutionVersion.Source.EVALUATION, actor=actor, before=before)
    return evaluation


@dataclass(frozen=True)
class FindingInput:
    description: str
    severity: str = Finding.Severity.MINOR
    rectify_by: date | None = None
    item_code: str = ""


def add_finding(actor: Any, evaluation: Evaluation, data: FindingInput) -> Finding:
    """A finding to rectify by a deadline (a major or critical one needs a deadline)."""
    require(actor, "registry.change_evaluation")
    _reachable(actor, Evaluation, evaluation.pk, "change")
    errors = {}
    if not data.description.strip():
        errors["description"] = _("Finding: describe what must be put right.")
    if data.severity not in Finding.Severity.values:
        errors["severity"] = _("Severity: choose one of the listed values.")
    if data.severity in (Finding.Severity.MAJOR, Finding.Severity.CRITICAL) and data.rectify_by is None:
        errors["rectify_by"] = _("Rectify by: a major or critical finding needs a deadline.")
    if data.rectify_by is not None and data.rectify_by < evaluation.visited_on:
        errors["rectify_by"] = _("Rectify by: the deadline cannot be before the visit.")
    if data.item_code:
        try:
            rules.checklist().item(data.item_code)
        except KeyError:
            errors["item_code"] = _("Checklist item: not an item of this checklist.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        finding = Finding.objects.create(evaluation=evaluation, description=data.description.strip(),
                                         severity=data.severity, rectify_by=data.rectify_by,
                                         item_code=data.item_code)
        audit.record(AuditAction.CREATE, obj=finding, region_code=evaluation.region_id,
                     detail={"evaluation": evaluation.pk, "severity": data.severity})
    return finding


def transition_finding(actor: Any, finding: Finding, action: str, *, note: str = "") -> Finding:
    """The institution reports its rectification; the inspector verifies (closes) or reopens it."""
    evaluation = finding.evaluation
    _reachable(actor, Evaluation, evaluation.pk)
    parties = set()
    if own_organisation_only(actor) and actor.organisation_id == evaluation.institution.organisation_id:
        parties.add("institution")
    with transaction.atomic():
        finding = Finding.objects.select_for_update().get(pk=finding.pk)
        transition = check("finding", finding.status, action, actor, parties=parties, reason=note)
        before = finding.status
        now = timezone.now()
        if action == "report":
            finding.rectification, finding.reported_at = note.strip(), now
        elif action == "verify":
            finding.closed_at, finding.closed_by = now, actor
            finding.follow_up_note = note.strip() or finding.follow_up_note
        else:
            finding.follow_up_note = note.strip()
        finding.status = transition.target
        finding.save()
        audit.record(AuditAction.CHANGE, obj=finding, region_code=evaluation.region_id,
                     detail={"transition": action, "from": before, "to": finding.status})
    return finding


# --------------------------------------------------------------------------------------------------
# Complaints
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintInput:
    category: str
    description: str
    region_code: str = ""
    institution_id: int | None = None
    subject: str = ""
    complainant_name: str = ""
    complainant_phone: str = ""


def submit_complaint(data: ComplaintInput, *, key: str) -> tuple[Complaint, bool]:
    """A complaint from the public (no sign-in), stored once per form key.

    The audit event is written without the request's address or user agent: a complainant may
    stay anonymous, and the log must not undo that.
    """
    errors: dict[str, str] = {}
    if data.category not in ComplaintCategory.values:
        errors["category"] = _("Category: choose one of the listed categories.")
    if len(data.description.strip()) < 10:
        errors["description"] = _("What happened: please describe it in a few sentences.")
    if len(data.description) > 5000:
        errors["description"] = _("What happened: at most 5,000 characters.")
    institution = None
    if data.institution_id is not None:
        institution = Institution.objects.filter(pk=data.institution_id).exclude(
            status=InstitutionStatus.REMOVED).first()
        if institution is None:
            errors["institution"] = _("Institution: choose one from the list.")
    region_code = institution.region_id if institution else data.region_code
    if institution is None and not Region.objects.filter(code=region_code, level__in=(2, 3, 4)).exists():
        errors["region_code"] = _("Where: choose the city or county of the service.")
    if institution is None and not data.subject.strip():
        errors["subject"] = _("About: name the service or person the complaint is about.")
    phone = data.complainant_phone.strip()
    if phone and not phone.replace("-", "").replace(" ", "").isdigit():
        errors["complainant_phone"] = _("Phone: digits only.")
    if errors:
        raise ValidationError(errors)
    seen = Complaint.objects.filter(submission_key=key).first()
    if seen is not None:
        return seen, False
    token = set_request_info(RequestInfo())
    try:
        with transaction.atomic():
            complaint = Complaint(institution=institution, subject=data.subject.strip()[:128],
                                  category=data.category, description=data.description.strip(),
                                  complainant_name=data.complainant_name.strip()[:64], complainant_phone=phone[:32],
                                  region_id=region_code, submission_key=key)
            try:
                with transaction.atomic():
                    complaint.save()
            except IntegrityError:
                seen = Complaint.objects.filter(submission_key=key).first()
                if seen is None:
                    raise
                return seen, False
            audit.record(AuditAction.CREATE, obj=complaint, detail={"via": "public", "category": data.category})
    finally:
        reset_request_info(token)
    return complaint, True


def transition_complaint(actor: Any, complaint: Complaint, action: str, *, note: str = "") -> Complaint:
    """Investigate, resolve or dismiss (with the outcome), audited."""
    _reachable(actor, Complaint, complaint.pk, "change")
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
        transition = check("complaint", complaint.status, action, actor, parties=set(), reason=note)
        before = complaint.status
        complaint.status = transition.target
        complaint.handler = actor
        if note.strip():
            complaint.outcome = note.strip()
        if complaint.status in rules.workflow("complaint").final:
            complaint.closed_at = timezone.now()
        complaint.save()
        audit.record(AuditAction.CHANGE, obj=complaint,
                     detail={"transition": action, "from": before, "to": complaint.status})
    return complaint


# --------------------------------------------------------------------------------------------------
# Sanctions
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SanctionInput:
    kind: str
    grounds: str
    institution_id: int | None = None
    practitioner_id: int | None = None
    public: bool = True
    effective_from: date | None = None
    ends_on: date | None = None
    complaint_id: int | None = None
    evaluation_id: int | None = None


def propose_sanction(actor: Any, data: SanctionInput) -> Sanction:
    """Propose a warning, suspension or removal (退出) of an institution or practitioner in scope."""
    require(actor, "registry.add_sanction")
    errors: dict[str, str] = {}
    if data.kind not in SanctionKind.values:
        errors["kind"] = _("Kind: choose warning, suspension or removal.")
    if len(data.grounds.strip()) < 4:
        errors["grounds"] = _("Grounds: state the facts and the rule broken.")
    if (data.institution_id is None) == (data.practitioner_id is None):
        errors["target"] = _("Target: a sanction concerns one institution or one practitioner.")
    if data.kind == SanctionKind.SUSPENSION and data.ends_on is None:
        errors["ends_on"] = _("Ends on: a suspension needs an end date.")
    if data.ends_on and data.effective_from and data.ends_on < data.effective_from:
        errors["ends_on"] = _("Ends on: cannot be before the start.")
    if errors:
        raise ValidationError(errors)
    target: Institution | Practitioner | None
    if data.institution_id is not None:
        target = Institution.objects.restrict(actor).filter(pk=data.institution_id).first()
    else:
        target = Practitioner.objects.restrict(actor).filter(pk=data.practitioner_id).first()
    if target is None:
        raise PermissionDenied
    with transaction.atomic():
        sanction = Sanction.objects.create(
            institution_id=data.institution_id, practitioner_id=data.practitioner_id, kind=data.kind,
            grounds=data.grounds.strip(), public=data.public, effective_from=data.effective_from,
            ends_on=data.ends_on, complaint_id=data.complaint_id, evaluation_id=data.evaluation_id,
            proposed_by=actor, region_id=target.region_id)
        audit.record(AuditAction.CREATE, obj=sanction, detail={"kind": data.kind, "target": (
            "institution" if data.institution_id else "practitioner")})
    return sanction


def transition_sanction(actor: Any, sanction: Sanction, action: str, *, note: str = "") -> Sanction:
    """Impose or refuse a proposed sanction (not by its proposer), or lift a suspension; imposing a
    suspension or removal changes the target's status (versioned for an institution)."""
    _reachable(actor, Sanction, sanction.pk)
    parties = {"proposer"} if sanction.proposed_by_id == actor.pk else set()
    with transaction.atomic():
        sanction = Sanction.objects.select_for_update().get(pk=sanction.pk)
        transition = check("sanction", sanction.status, action, actor, parties=parties, reason=note,
                           kind=sanction.kind)
        before = sanction.status
        sanction.status = transition.target
        sanction.decided_by, sanction.decided_at = actor, timezone.now()
        if note.strip():
            sanction.decision_note = note.strip()
        if action == "impose" and sanction.effective_from is None:
            sanction.effective_from = timezone.localdate()
        sanction.save()
        new_status = _target_status(sanction, action)
        if new_status is not None:
            _apply_to_target(actor, sanction, new_status)
        audit.record(AuditAction.CHANGE, obj=sanction,
                     detail={"transition": action, "from": before, "to": sanction.status, "kind": sanction.kind})
    return sanction


def _target_status(sanction: Sanction, action: str) -> str | None:
    if action == "impose" and sanction.kind == SanctionKind.SUSPENSION:
        return "suspended"
    if action == "impose" and sanction.kind == SanctionKind.REMOVAL:
        return "removed"
    if action == "lift":
        return "active"
    return None


def _apply_to_target(actor: Any, sanction: Sanction, status: str) -> None:
    if sanction.institution_id is not None:
        institution = Institution.objects.select_for_update().get(pk=sanction.institution_id)
        if status == "active" and institution.status != InstitutionStatus.SUSPENDED:
            return  # removed or closed meanwhile: lifting a suspension does not bring it back
        set_institution_status(institution, status, actor=actor, source=InstitutionVersion.Source.SANCTION,
                               sanction=sanction)
        return
    practitioner = Practitioner.objects.select_for_update().get(pk=sanction.practitioner_id)
    if status == "active" and practitioner.status != PractitionerStatus.SUSPENDED:
        return
    practitioner.status = status
    practitioner.save(update_fields=["status", "updated_at"])
    audit.record(AuditAction.CHANGE, obj=practitioner, detail={"fields": ["status"], "sanction": sanction.pk})
