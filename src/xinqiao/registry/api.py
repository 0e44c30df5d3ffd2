"""API routes of the registry, mounted under ``/api/v1/registry/`` (staff, signed in) and
``/api/v1/services/`` (public: the finder, the credential look-up, disclosure). Every route is in
the permission matrix (tests/security/routes_registry.py, routes_services.py). Creates take a
required ``Idempotency-Key``; errors name the field (xinqiao/api.py)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import get_language
from ninja import Header, Query, Router, Status
from ninja.security import django_auth

from xinqiao.core import audit
from xinqiao.core.idempotency import run_once
from xinqiao.core.masks import present
from xinqiao.core.models import AuditAction, Region, RegionKind
from xinqiao.core.scope import get_scoped_or_404, in_scope
from xinqiao.registry import coverage as coverage_module
from xinqiao.registry import finder, lookup, rules, services
from xinqiao.registry.models import (
    Institution,
    InstitutionStatus,
    LookupCount,
    Practitioner,
    RegistrationApplication,
    Sanction,
    SanctionStatus,
    ServicePoint,
)
from xinqiao.registry.schemas import (
    ApplicationIn,
    ApplicationOut,
    CoverageOut,
    DisclosureOut,
    InstitutionDetailOut,
    InstitutionOut,
    LookupIn,
    LookupOut,
    PointOut,
    PractitionerOut,
    TransitionIn,
)
from xinqiao.screening import ratelimit

router = Router(tags=["registry"], auth=django_auth)

#: Anonymous routes (credential look-up, service finder) under ``/api/v1/services/``.
public_router = Router(tags=["services"])

MAX_PAGE = 200


def _lang() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def _require(request: HttpRequest, permission: str) -> Any:
    user: Any = request.user
    if not user.has_perm(permission):
        raise PermissionDenied
    return user


# --------------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------------


def institution_out(i: Institution) -> dict[str, Any]:
    return {"id": i.pk, "registration_number": i.registration_number, "name": i.organisation.name, "kind": i.kind,
            "status": i.status, "region_code": i.region_id, "version": i.version, "grade": i.grade,
            "demonstration": i.demonstration, "demonstration_year": i.demonstration_year, "beds": i.beds,
            "hospital_level": i.hospital_level, "students": i.students, "counsellors": i.counsellors}


@router.get("/institutions", response=list[InstitutionOut], url_name="registry_institution_list")
def institution_list(request: HttpRequest, kind: str = "", status: str = "", offset: int = 0,
                     limit: int = 50) -> list[dict[str, Any]]:
    """Registered institutions of the caller's region (institution staff: their own)."""
    _require(request, "registry.view_institution")
    qs = Institution.objects.restrict(request.user).select_related("organisation")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    rows = qs.order_by("region_id", "id")[max(0, offset): max(0, offset) + min(max(1, limit), MAX_PAGE)]
    return [institution_out(i) for i in rows]


@router.get("/institutions/{institution_id}", response=InstitutionDetailOut, url_name="registry_institution_detail")
def institution_detail(request: HttpRequest, institution_id: int) -> dict[str, Any]:
    institution = get_scoped_or_404(Institution, request.user, pk=institution_id)
    points = institution.points.prefetch_related("services", "hours").select_related("institution__organisation")
    return {**institution_out(institution), "address": institution.organisation.address,
            "phone": institution.organisation.phone, "points": [point_out(p) for p in points]}


def application_out(app: RegistrationApplication) -> dict[str, Any]:
    return {"id": app.pk, "kind": app.kind, "status": app.status, "name": app.proposed_name,
            "region_code": app.region_id, "institution_id": app.institution_id,
            "recommendation": app.recommendation, "reason": app.reason, "submitted_at": app.submitted_at,
            "decided_at": app.decided_at}


@router.get("/applications", response=list[ApplicationOut], url_name="registry_application_list")
def application_list(request: HttpRequest, status: str = "", offset: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    _require(request, "registry.view_registrationapplication")
    qs = RegistrationApplication.objects.restrict(request.user)
    if status:
        qs = qs.filter(status=status)
    rows = qs[max(0, offset): max(0, offset) + min(max(1, limit), MAX_PAGE)]
    return [application_out(a) for a in rows]


@router.post("/applications", response={201: ApplicationOut}, url_name="registry_application_create")
def application_create(request: HttpRequest, payload: ApplicationIn,
                       idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Apply to register a new institution (``institution_id`` empty) or to change a registered one."""
    user = _require(request, "registry.add_registrationapplication")

    def act() -> tuple[int, Any]:
        institution = None
        if payload.institution_id is not None:
            institution = get_scoped_or_404(Institution, user, pk=payload.institution_id)
        data = services.InstitutionInput(**payload.details.model_dump())
        app, _created = services.submit_application(user, data, institution=institution)
        return 201, application_out(app)

    status, body, _replayed = run_once(user, "registry.application", idempotency_key[:100],
                                       payload.model_dump(mode="json"), lambda: _json(act()))
    return Status(status, body)


def _json(result: tuple[int, Any]) -> tuple[int, Any]:
    status, body = result
    return status, {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in body.items()}


@router.post("/applications/{application_id}/transition", response={200: ApplicationOut},
             url_name="registry_application_transition")
def application_transition(request: HttpRequest, application_id: int, payload: TransitionIn,
                           idempotency_key: str = Header(..., alias="Idempotency-Key")) -> Status:
    """Review, return, resubmit, withdraw, approve or reject (workflow.json); 403 without the permission."""
    user: Any = request.user
    app = get_scoped_or_404(RegistrationApplication, user, pk=application_id)

    def act() -> tuple[int, Any]:
        done = services.transition_application(user, app, payload.action, reason=payload.reason,
                                               recommendation=payload.recommendation)
        return 200, application_out(done)

    status, body, _replayed = run_once(user, f"registry.application.{app.pk}", idempotency_key[:100],
                                       payload.model_dump(mode="json"), lambda: _json(act()))
    return Status(status, body)


@router.get("/practitioners", response=list[PractitionerOut], url_name="registry_practitioner_list")
def practitioner_list(request: HttpRequest, profession: str = "", offset: int = 0,
                      limit: int = 50) -> list[dict[str, Any]]:
    """Practitioners of the caller's region (names per role); audited as a list."""
    user = _require(request, "registry.view_practitioner")
    from django.utils import timezone

    qs = Practitioner.objects.restrict(user).prefetch_related("practices", "credentials")
    if profession:
        qs = qs.filter(profession=profession)
    rows = list(qs.order_by("region_id", "id")[max(0, offset): max(0, offset) + min(max(1, limit), MAX_PAGE)])
    if rows:
        audit.record_many(AuditAction.LIST, rows, detail={"via": "api"})
    today = timezone.localdate()
    return [{"id": p.pk, "name": present(user, p).get("name"), "profession": p.profession, "status": p.status,
             "region_code": p.region_id,
             "workplaces": [x.institution_id for x in p.practices.all() if x.ended_on is None],
             "credential_statuses": sorted({c.status_on(today) for c in p.credentials.all()})} for p in rows]


@router.get("/coverage", response=CoverageOut, url_name="registry_coverage")
def coverage(request: HttpRequest, region: str = "", year: int | None = None) -> dict[str, Any]:
    """Coverage figures per region (registry/coverage.py); ``region`` defaults to the caller's."""
    user = _require(request, "registry.view_coverage")
    code = region or (user.region_id or "")
    if not code or not Region.objects.filter(code=code).exists() or not in_scope(user, code):
        raise Http404
    return coverage_module.coverage(code, year=year).as_dict()


# --------------------------------------------------------------------------------------------------
# Public
# --------------------------------------------------------------------------------------------------


def point_out(p: ServicePoint) -> dict[str, Any]:
    intervals = [rules.Interval(h.weekday, h.opens, h.closes) for h in p.hours.all()]
    distance = getattr(p, "distance_km", None)
    return {"id": p.pk, "name": p.name, "kind": p.institution.kind, "institution_id": p.institution_id,
            "registration_number": p.institution.registration_number, "address": p.address, "phone": p.phone,
            "latitude": p.latitude, "longitude": p.longitude, "open_24h": p.open_24h,
            "open_now": finder.is_open_now(p), "hours": rules.format_hours(intervals), "hours_note": p.hours_note,
            "services": sorted(s.code for s in p.services.all()), "populations": list(p.populations),
            "languages": list(p.languages), "region_code": p.region_id,
            "distance_km": round(distance, 2) if distance is not None else None}


def _too_many(verdict: ratelimit.Verdict) -> HttpResponse:
    from xinqiao.screening.services import alerting

    line = alerting()["crisis_hotline"]["number"]
    message = (f"请求过于频繁，请稍后再试。如需立即帮助，请拨打 {line}。" if _lang() == "zh"
               else f"Too many requests; try again later. For help now, call {line}.")
    response = JsonResponse({"detail": [{"field": "", "message": message}]}, status=429,
                            json_dumps_params={"ensure_ascii": False})
    response["Retry-After"] = str(verdict.retry_after)
    return response


@public_router.get("/points", response=list[PointOut], url_name="services_finder")
def points(request: HttpRequest, region: str = "", lat: float | None = None, lon: float | None = None,
           f: list[str] = Query([]), open: bool = False, urgent: bool = False,  # noqa: B008
           q: str = "") -> Any:
    """Public services near a location (``lat``/``lon``) or in a region, nearest first; ``f`` filters
    (emergency, psychiatric_outpatient, counselling, child_adolescent, elderly, hotline); ``urgent``
    puts 24-hour services first. Empty without a location or region."""
    verdict = ratelimit.hit(request, "registry-finder", ratelimit.parse_rate(str(rules.public_settings()["finder_rate"])))
    if not verdict.allowed:
        return _too_many(verdict)
    valid = finder.valid_region(region.strip())
    query = finder.Query(region_code=valid.code if valid else "", latitude=lat, longitude=lon,
                         filters=[x for x in f if x in rules.finder_filters()], open_now=open, urgent=urgent,
                         text=q[:40])
    if not query.located:
        query.latitude = query.longitude = None
    return [point_out(p) for p in finder.search(query)]


@public_router.post("/credentials/lookup", response={200: LookupOut}, url_name="services_lookup")
def credential_lookup(request: HttpRequest, payload: LookupIn) -> Any:
    """Name + certificate number → the public fields only; a miss and a wrong number answer alike.
    Counted per day, never logged; rate-limited per client."""
    verdict = ratelimit.hit(request, lookup.RATE_SCOPE, ratelimit.parse_rate(str(rules.public_settings()["lookup_rate"])))
    if not verdict.allowed:
        lookup.count(LookupCount.Channel.API, LookupCount.Outcome.LIMITED)
        return _too_many(verdict)
    answer = lookup.lookup(payload.name, payload.number, lang=_lang())
    lookup.count(LookupCount.Channel.API, lookup.outcome_of(answer))
    return Status(200, answer)


@public_router.get("/disclosure/{code}", response=list[DisclosureOut], url_name="services_disclosure")
def disclosure(request: HttpRequest, code: str, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
    """A region's registered institutions with grade, 示范单位 and public sanctions in force."""
    region = Region.objects.filter(code=code).exclude(kind=RegionKind.PLACEHOLDER).first()
    if region is None:
        raise Http404
    rows = list(Institution.objects.filter(**{region.scope_column: region.code})
                .exclude(status=InstitutionStatus.CLOSED).select_related("organisation")
                .order_by("kind", "organisation__name")[max(0, offset): max(0, offset) + min(max(1, limit), MAX_PAGE)])
    sanctions: dict[int, list[dict[str, Any]]] = {}
    for s in Sanction.objects.filter(institution__in=rows, public=True, status=SanctionStatus.IN_FORCE):
        sanctions.setdefault(s.institution_id or 0, []).append({
            "kind": s.kind, "status": s.status,
            "effective_from": s.effective_from.isoformat() if s.effective_from else None,
            "ends_on": s.ends_on.isoformat() if s.ends_on else None})
    return [{"registration_number": i.registration_number, "name": i.organisation.name, "kind": i.kind,
             "status": i.status, "region_code": i.region_id, "grade": i.grade, "demonstration": i.demonstration,
             "demonstration_year": i.demonstration_year, "sanctions": sanctions.get(i.pk, [])} for i in rows]
