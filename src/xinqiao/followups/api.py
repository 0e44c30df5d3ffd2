"""API routes of the followups app, mounted under ``/api/v1/followups/``. Every route is in the permission
matrix (``tests/security/routes_followups.py``).

- ``POST /followups/`` (Idempotency-Key): record a follow-up; ``GET /followups/`` and
  ``GET /followups/{id}``: scoped (404 outside), fields as the caller's role may see them, audited.
- ``POST``/``PATCH /followups/{id}/correction`` (Idempotency-Key): correct a stored follow-up
  (``corrections.py``: reason required, previous version kept, rules re-run); 403 with the reason
  when the caller may see but not correct it.
- ``POST /followups/propose``: the ``followup-rule`` contract over HTTP (nothing stored).
- ``GET /followups/medications``: the medication catalogue (reference data).
- health checks and discharges: ``POST`` (Idempotency-Key) and ``GET /patients/{id}/…``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Body, Header, Router, Status
from ninja.security import django_auth

from xinqiao.core import audit
from xinqiao.core import services as core_services
from xinqiao.core.idempotency import run_once
from xinqiao.core.masking import mask
from xinqiao.core.masks import Visibility, pii_fields, visibility
from xinqiao.core.models import AuditAction
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.followups import corrections, rules, services
from xinqiao.followups.display import history
from xinqiao.followups.models import DischargeRecord, FollowUp, HealthCheck, MedicationCatalogue
from xinqiao.followups.schemas import (
    CorrectionOutSchema,
    DischargeCreateSchema,
    FollowUpCorrectionSchema,
    FollowUpCreateSchema,
    FollowUpPage,
    FollowUpSchema,
    HealthCheckCreateSchema,
    MedicationCatalogueSchema,
    MedicationSchema,
    ParticipantSchema,
    ProposalSchema,
    RecordSchema,
)
from xinqiao.patients.models import Patient

router = Router(tags=["followups"])
PAGE_SIZE = 50


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def api_values(user: Any, obj: models.Model) -> dict[str, Any]:
    """The personal-data fields of ``obj`` as codes: full → the stored value, masked → masked, hidden → null.

    Like ``masks.present`` but keeps codes rather than labels (the API speaks the national codes).
    """
    out: dict[str, Any] = {}
    for name, category in pii_fields(obj).items():
        level = visibility(user, category)
        if level == Visibility.HIDDEN:
            out[name] = None
        elif level == Visibility.MASKED:
            out[name] = mask(category, getattr(obj, name))
        else:
            out[name] = _plain(getattr(obj, name))
    return out


def _followup_out(user: Any, fu: FollowUp, *, replayed: bool = False, one: bool = True) -> dict[str, Any]:
    """A follow-up as ``user`` may see it; ``one`` (not in lists) adds the referral its decision called for."""
    return {"id": fu.pk, "patient_id": fu.patient_id, "township_code": fu.township_code, "replayed": replayed,
            "fields": api_values(user, fu),
            "medications": [api_values(user, m) for m in fu.medications.all()],
            "participants": [{**api_values(user, p), "user_id": p.user_id} for p in fu.participants.all()],
            "referral": services.referral_of(user, fu) if one else None,
            "revisions": _revisions_out(user, fu) if one else None}


def _revisions_out(user: Any, fu: FollowUp) -> list[dict[str, Any]]:
    """The correction history as the page shows it (``display.history``), newest first."""
    return [{"number": r["number"], "at": r["at"].isoformat(), "by_id": r["by"].pk if r["by"] else None,
             "reason": r["reason"], "changes": [{"label": str(label), "previous": str(value)}
                                                for label, value in r["changes"]]}
            for r in history(user, fu)]


def _record_out(user: Any, obj: Any) -> dict[str, Any]:
    lines = obj.medications.all() if isinstance(obj, DischargeRecord) else []
    return {"id": obj.pk, "patient_id": obj.patient_id, "township_code": obj.township_code,
            "fields": api_values(user, obj), "medications": [api_values(user, m) for m in lines]}


def _lines(items: list[MedicationSchema]) -> tuple[services.MedicationInput, ...]:
    return tuple(services.MedicationInput(times=m.times, dose=m.dose, drug_id=m.drug_id, drug_name=m.drug_name,
                                          period=m.period, unit=m.unit) for m in items)


def _participants(items: list[ParticipantSchema]) -> tuple[services.ParticipantInput, ...]:
    return tuple(services.ParticipantInput(role=p.role, user_id=p.user_id, name=p.name) for p in items)


def _body(payload: Any) -> dict[str, Any]:
    body: dict[str, Any] = payload.model_dump(mode="json")
    return body


# --- Reference data and the engine ------------------------------------------------------------------

@router.get("/medications", response=list[MedicationCatalogueSchema], auth=django_auth,
            url_name="followups_medications")
def medications(request: HttpRequest) -> list[MedicationCatalogue]:
    """The drugs offered on the forms (common antipsychotics, long-acting injectables, mood stabilisers)."""
    return list(MedicationCatalogue.objects.filter(active=True))


@router.post("/propose", response=ProposalSchema, auth=django_auth, url_name="followups_propose")
def propose(request: HttpRequest, payload: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008 (ninja marker)
    """The ``xinqiao followup-rule`` contract over HTTP: classification, next date, actions. Nothing is stored."""
    if not request.user.has_perm("followups.add_followup"):
        raise PermissionDenied
    try:
        return rules.propose(rules.parse_input(payload)).as_json_dict()
    except rules.RuleInputError as exc:
        message = exc.message_en if (get_language() or "").startswith("en") else exc.message_zh
        raise ValidationError({exc.key: message}) from None


# --- Follow-ups -------------------------------------------------------------------------------------

@router.get("/", response=FollowUpPage, auth=django_auth, url_name="followups_list")
def followup_list(request: HttpRequest, patient_id: int | None = None, page: int = 1) -> dict[str, Any]:
    """Follow-ups in the caller's scope (of one patient with ``patient_id``), newest first; audited as a list."""
    user: Any = request.user
    if not user.has_perm("followups.view_followup"):
        raise PermissionDenied
    qs = FollowUp.objects.restrict(user).order_by("-followup_date", "-id")
    if patient_id is not None:
        patient = get_scoped_or_404(Patient, user, pk=patient_id)
        qs = qs.filter(patient=patient)
    paged = Paginator(qs.prefetch_related("medications", "participants"), PAGE_SIZE).get_page(page)
    rows = list(paged.object_list)
    audit.record_many(AuditAction.LIST, rows, object_type="followups.followup", detail={"via": "api"})
    return {"count": paged.paginator.count, "page": paged.number, "pages": paged.paginator.num_pages,
            "results": [_followup_out(user, f, one=False) for f in rows]}


@router.get("/{int:followup_id}", response=FollowUpSchema, auth=django_auth, url_name="followups_detail")
def followup_detail(request: HttpRequest, followup_id: int) -> dict[str, Any]:
    """One follow-up (404 outside scope), audited as a view."""
    fu = get_scoped_or_404(FollowUp, request.user, pk=followup_id)
    core_services.view_record(request.user, fu)
    return _followup_out(request.user, fu)


@router.post("/", response={201: FollowUpSchema, 200: FollowUpSchema}, auth=django_auth,
             url_name="followups_create")
def followup_create(request: HttpRequest, payload: FollowUpCreateSchema,
                    idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Record a follow-up; a retry with the same ``Idempotency-Key`` stores nothing new."""
    user: Any = request.user
    patient = get_scoped_or_404(Patient, user, pk=payload.patient_id)
    if not user.has_perm("followups.add_followup"):
        raise PermissionDenied
    body = _body(payload)
    key = idempotency_key.strip()[:100]
    fields = payload.dict(exclude={"patient_id", "medications", "participants"})
    data = services.FollowUpInput(**fields, medications=_lines(payload.medications),
                                  participants=_participants(payload.participants))

    def create() -> tuple[int, dict[str, Any]]:
        fu, created = services.record_followup(user, patient, data, key=f"api:u{user.pk}:{key}")
        return (201 if created else 200), _followup_out(user, fu, replayed=not created)

    status, out, replayed = run_once(user, "followups.create", key, body, create)
    return Status(status, {**out, "replayed": replayed or out.get("replayed", False)})



@router.api_operation(["POST", "PATCH"], "/{int:followup_id}/correction", response=CorrectionOutSchema,
                      auth=django_auth, url_name="followups_correct")
def followup_correct(request: HttpRequest, followup_id: int, payload: FollowUpCorrectionSchema,
                     idempotency_key: str = Header(..., alias="Idempotency-Key")) -> dict[str, Any]:
    """Correct a follow-up (404 outside scope, 403 when the caller may not correct it); a retry with the
    same ``Idempotency-Key`` returns the same revision."""
    user: Any = request.user
    fu = get_scoped_or_404(FollowUp, user, pk=followup_id)
    refused = corrections.refusal(user, fu)
    if refused:
        raise corrections.CorrectionRefused(refused)
    key = idempotency_key.strip()[:100]
    sent = payload.dict(exclude_unset=True, exclude={"patient_id", "reason", "medications", "participants"})
    if "medications" in payload.model_fields_set:
        sent["medications"] = _lines(payload.medications)
    if "participants" in payload.model_fields_set:
        sent["participants"] = _participants(payload.participants)
    for name in ("symptoms", "rehab_measures"):
        if name in sent:
            sent[name] = tuple(sent[name])
    data = corrections.merged_input(fu, sent)

    def correct() -> tuple[int, dict[str, Any]]:
        revision, _created = corrections.correct_followup(user, fu, data, payload.reason,
                                                          key=f"api:u{user.pk}:{key}")
        fresh = FollowUp.objects.get(pk=fu.pk)
        return 200, {**_followup_out(user, fresh), "revision": revision.number}

    _status, out, replayed = run_once(user, "followups.correct", key, {"id": followup_id, **_body(payload)}, correct)
    return {**out, "replayed": replayed}

# --- Health checks and discharges --------------------------------------------------------------------

@router.get("/patients/{int:patient_id}/health-checks", response=list[RecordSchema], auth=django_auth,
            url_name="followups_healthcheck_list")
def healthcheck_list(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    """A patient's health checks (audited as a list)."""
    user: Any = request.user
    patient = get_scoped_or_404(Patient, user, pk=patient_id)
    if not user.has_perm("followups.view_healthcheck"):
        raise PermissionDenied
    rows = list(HealthCheck.objects.restrict(user).filter(patient=patient))
    audit.record_many(AuditAction.LIST, rows, object_type="followups.healthcheck", detail={"via": "api"})
    return [_record_out(user, c) for c in rows]


@router.post("/health-checks", response={201: RecordSchema, 200: RecordSchema}, auth=django_auth,
             url_name="followups_healthcheck_create")
def healthcheck_create(request: HttpRequest, payload: HealthCheckCreateSchema,
                       idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Record an annual health check (or a refusal)."""
    user: Any = request.user
    patient = get_scoped_or_404(Patient, user, pk=payload.patient_id)
    if not user.has_perm("followups.add_healthcheck"):
        raise PermissionDenied
    key = idempotency_key.strip()[:100]
    data = services.HealthCheckInput(**payload.dict(exclude={"patient_id"}))

    def create() -> tuple[int, dict[str, Any]]:
        check, created = services.record_health_check(user, patient, data, key=f"api:u{user.pk}:{key}")
        return (201 if created else 200), _record_out(user, check)

    status, out, _replayed = run_once(user, "followups.healthcheck", key, _body(payload), create)
    return Status(status, out)


@router.get("/patients/{int:patient_id}/discharges", response=list[RecordSchema], auth=django_auth,
            url_name="followups_discharge_list")
def discharge_list(request: HttpRequest, patient_id: int) -> list[dict[str, Any]]:
    """A patient's discharge records (audited as a list)."""
    user: Any = request.user
    patient = get_scoped_or_404(Patient, user, pk=patient_id)
    if not user.has_perm("followups.view_dischargerecord"):
        raise PermissionDenied
    rows = list(DischargeRecord.objects.restrict(user).filter(patient=patient).prefetch_related("medications"))
    audit.record_many(AuditAction.LIST, rows, object_type="followups.dischargerecord", detail={"via": "api"})
    return [_record_out(user, d) for d in rows]


@router.post("/discharges", response={201: RecordSchema, 200: RecordSchema}, auth=django_auth,
             url_name="followups_discharge_create")
def discharge_create(request: HttpRequest, payload: DischargeCreateSchema,
                     idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Record a hospital's discharge: the home clinic is informed and owes a first visit."""
    user: Any = request.user
    patient = get_scoped_or_404(Patient, user, pk=payload.patient_id)
    if not user.has_perm("followups.add_dischargerecord"):
        raise PermissionDenied
    key = idempotency_key.strip()[:100]
    data = services.DischargeInput(**payload.dict(exclude={"patient_id", "medications"}),
                                   medications=_lines(payload.medications))

    def create() -> tuple[int, dict[str, Any]]:
        record, created = services.record_discharge(user, patient, data, key=f"api:u{user.pk}:{key}")
        return (201 if created else 200), _record_out(user, record)

    status, out, _replayed = run_once(user, "followups.discharge", key, _body(payload), create)
    return Status(status, out)
