"""API routes of the referrals app, mounted under ``/api/v1/referrals/``. Every route is in the
permission matrix (``tests/security/routes_referrals.py``).

Thin handlers: ``restrict``/``get_scoped_or_404`` (404 out of scope), a service, ``present()`` for
every personal field (hidden ones are null; coded ones are given as their national code when
visible). POSTs take a required ``Idempotency-Key`` and store once (``core.idempotency.run_once``).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Header, Router, Status
from ninja.security import django_auth

from xinqiao.core import audit
from xinqiao.core.idempotency import run_once
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction
from xinqiao.core.scope import get_scoped_or_404
from xinqiao.referrals import rules, services
from xinqiao.referrals.codes import EmergencyStatus
from xinqiao.referrals.models import EmergencyRecord, Referral
from xinqiao.referrals.schemas import (
    EmergencyCreateSchema,
    EmergencyPage,
    EmergencySchema,
    ReferralActionSchema,
    ReferralCreateSchema,
    ReferralPage,
    ReferralSchema,
)

router = Router(tags=["referrals"])
PAGE_SIZE = 50


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _key(value: str) -> str:
    return value[:128]


# --------------------------------------------------------------------------------------------------
# Referrals
# --------------------------------------------------------------------------------------------------


def referral_out(user: Any, r: Referral, shown: dict[str, Any], *, history: bool = False) -> dict[str, Any]:
    """The API body of a referral; ``shown`` is ``present(user, r)`` (or the audited view of it)."""
    out: dict[str, Any] = {
        "id": r.pk, "patient_id": r.patient_id, "register_number": r.patient.register_number,
        "direction": r.direction, "from_organisation_id": r.from_organisation_id,
        "from_organisation": r.from_organisation.name, "to_organisation_id": r.to_organisation_id,
        "to_organisation": r.to_organisation.name, "urgency": r.urgency, "state": r.state, "sent_at": r.sent_at,
        "receive_due": r.receive_due, "received_at": r.received_at, "complete_due": r.complete_due,
        "completed_at": r.completed_at, "declined_at": r.declined_at,
        "days_overdue": rules.days_overdue(r.state, r.receive_due, r.complete_due, timezone.localdate()),
        **{f: shown.get(f) or None for f in Referral.PII_FIELDS},
        "allowed_actions": rules.allowed_actions(r.state, services.referral_side(user, r))
        if user.has_perm("referrals.change_referral") else [],
    }
    if history:
        out["history"] = [
            {"action": e.action, "from_state": e.from_state, "to_state": e.to_state, "at": e.at,
             "organisation": e.organisation.name if e.organisation else None, "note": present(user, e).get("note") or None}
            for e in r.events.select_related("organisation")
        ]
    return out


def _scoped_referral(request: HttpRequest, referral_id: int) -> Referral:
    referral = (Referral.objects.restrict(request.user).select_related("patient", "from_organisation", "to_organisation")
                .filter(pk=referral_id).first())
    if referral is None:
        raise Http404
    return referral


@router.get("/", response=ReferralPage, auth=django_auth, url_name="referral_list")
def referral_list(request: HttpRequest, box: str = "all", overdue: bool = False, page: int = 1) -> dict[str, Any]:
    """Referrals in scope; ``box=incoming|outgoing`` for the caller's organisation; ``overdue=true`` for
    those past their deadline. Audited as a list view."""
    _require(request, "referrals.view_referral")
    user: Any = request.user
    qs = Referral.objects.restrict(user).select_related("patient", "from_organisation", "to_organisation")
    if box == "incoming":
        qs = qs.filter(to_organisation_id=user.organisation_id)
    elif box == "outgoing":
        qs = qs.filter(from_organisation_id=user.organisation_id)
    if overdue:
        qs = qs.filter(pk__in=services.overdue_referrals(timezone.localdate()).values("pk"))
    paged = Paginator(qs.order_by("-sent_at", "-id"), PAGE_SIZE).get_page(page)
    rows = list(paged.object_list)
    if rows:
        audit.record_many(AuditAction.LIST, rows, detail={"box": box, "page": paged.number, "via": "api"})
    return {"count": paged.paginator.count, "page": paged.number, "pages": paged.paginator.num_pages,
            "results": [referral_out(user, r, present(user, r)) for r in rows]}


@router.post("/", response={201: ReferralSchema}, auth=django_auth, url_name="referral_create")
def referral_create(request: HttpRequest, payload: ReferralCreateSchema,
                    idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Send a referral from the caller's organisation; stored once per ``Idempotency-Key``."""
    _require(request, "referrals.add_referral")
    body = payload.dict()

    def create() -> tuple[int, dict[str, Any]]:
        referral = services.send_referral(request.user, services.ReferralInput(**body))
        return 201, json_body(referral_out(request.user, referral, present(request.user, referral), history=True))

    status, out, _replayed = run_once(request.user, "referrals.send", _key(idempotency_key), body, create)
    return Status(status, out)


@router.get("/{int:referral_id}", response=ReferralSchema, auth=django_auth, url_name="referral_detail")
def referral_detail(request: HttpRequest, referral_id: int) -> dict[str, Any]:
    """One referral (404 out of scope) with its history; audited as a view."""
    referral = _scoped_referral(request, referral_id)
    shown = services.view_referral(request.user, referral)
    return referral_out(request.user, referral, shown, history=True)


@router.post("/{int:referral_id}/actions", response=ReferralSchema, auth=django_auth, url_name="referral_action")
def referral_action(request: HttpRequest, referral_id: int, payload: ReferralActionSchema,
                    idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Any:
    """Receive, decline (``note`` = reason) or complete: the receiving organisation only (others 403)."""
    referral = _scoped_referral(request, referral_id)
    body = {"referral": referral.pk, **payload.dict()}

    def act() -> tuple[int, dict[str, Any]]:
        done = services.act_on_referral(request.user, referral, payload.action, payload.note)
        return 200, json_body(referral_out(request.user, done, present(request.user, done), history=True))

    status, out, _replayed = run_once(request.user, "referrals.act", _key(idempotency_key), body, act)
    return Status(status, out)


def json_body(body: dict[str, Any]) -> dict[str, Any]:
    """Dates and datetimes as ISO text, so the stored idempotent answer is plain JSON."""
    loaded: dict[str, Any] = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    return loaded


# --------------------------------------------------------------------------------------------------
# Emergencies
# --------------------------------------------------------------------------------------------------


def emergency_out(user: Any, e: EmergencyRecord, shown: dict[str, Any]) -> dict[str, Any]:
    """The API body of an emergency record: coded fields as codes when visible, text masked per role."""
    person = present(user, e.person) if e.person is not None else {}
    coded = ("danger_level", "reason", "measures", "effect", "diagnosis")
    return {
        "id": e.pk, "township_code": e.township_code, "county_code": e.county_code, "status": e.status,
        "occurred_at": e.occurred_at, "recorded_at": e.recorded_at, "record_due": e.record_due,
        "recorded_late": e.recorded_late, "police_notified_at": e.police_notified_at,
        "subject_category": e.subject_category, "patient_id": e.patient_id,
        "register_number": e.patient.register_number if e.patient else None, "person_name": person.get("name"),
        "reporter_role": e.reporter_role, "police_officers": e.police_officers,
        "prevention_doctors": e.prevention_doctors, "psychiatrists": e.psychiatrists,
        **{f: (getattr(e, f) if f in shown else None) for f in coded},
        **{f: (shown.get(f) if f in shown else None) for f in ("place", "diagnosis_note", "narrative")},
    }


@router.get("/emergencies", response=EmergencyPage, auth=django_auth, url_name="emergency_list")
def emergency_list(request: HttpRequest, status: str = "open", page: int = 1) -> dict[str, Any]:
    """The board: open emergencies in scope (``status=all`` for every record); audited as a list view."""
    _require(request, "referrals.view_emergencyrecord")
    qs = EmergencyRecord.objects.restrict(request.user).select_related("patient", "person")
    if status != "all":
        qs = qs.filter(status=EmergencyStatus.OPEN)
    paged = Paginator(qs.order_by("-occurred_at", "-id"), PAGE_SIZE).get_page(page)
    rows = list(paged.object_list)
    if rows:
        audit.record_many(AuditAction.LIST, rows, detail={"page": paged.number, "via": "api"})
    return {"count": paged.paginator.count, "page": paged.number, "pages": paged.paginator.num_pages,
            "results": [emergency_out(request.user, e, present(request.user, e)) for e in rows]}


@router.post("/emergencies", response={201: EmergencySchema}, auth=django_auth, url_name="emergency_create")
def emergency_create(request: HttpRequest, payload: EmergencyCreateSchema,
                     idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Record an emergency; stored once per ``Idempotency-Key``."""
    _require(request, "referrals.add_emergencyrecord")
    body = payload.dict()

    def create() -> tuple[int, dict[str, Any]]:
        data = dict(body)
        subject = data.pop("subject")
        record = services.record_emergency(request.user, services.EmergencyInput(
            **data, subject=services.UnregisteredSubject(**subject) if subject else None))
        return 201, json_body(emergency_out(request.user, record, present(request.user, record)))

    status, out, _replayed = run_once(request.user, "referrals.emergency", _key(idempotency_key), body, create)
    return Status(status, out)


@router.get("/emergencies/{int:record_id}", response=EmergencySchema, auth=django_auth, url_name="emergency_detail")
def emergency_detail(request: HttpRequest, record_id: int) -> dict[str, Any]:
    """One emergency record (404 out of scope); audited as a view."""
    record = get_scoped_or_404(EmergencyRecord, request.user, pk=record_id)
    shown = services.view_emergency(request.user, record)
    return emergency_out(request.user, record, shown)


@router.post("/emergencies/{int:record_id}/close", response=EmergencySchema, auth=django_auth,
             url_name="emergency_close")
def emergency_close(request: HttpRequest, record_id: int,
                    idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Any:
    """Take an emergency off the board (403 without the change permission)."""
    record = get_scoped_or_404(EmergencyRecord, request.user, pk=record_id)

    def close() -> tuple[int, dict[str, Any]]:
        done = services.close_emergency(request.user, record)
        return 200, json_body(emergency_out(request.user, done, present(request.user, done)))

    status, out, _replayed = run_once(request.user, "referrals.emergency_close", _key(idempotency_key),
                                      {"record": record.pk}, close)
    return Status(status, out)
