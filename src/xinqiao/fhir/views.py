"""FHIR endpoints: metadata, Patient read and search by identifier. Thin: scope, build, audit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods

from xinqiao.core import audit, services
from xinqiao.core.models import AuditAction, Person
from xinqiao.core.scope import permission_for
from xinqiao.fhir.resources import (
    ID_SYSTEM_PREFIX,
    bundle,
    capability_statement,
    operation_outcome,
    patient_resource,
)

FHIR_JSON = "application/fhir+json"


def _fhir(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, content_type=FHIR_JSON, json_dumps_params={"ensure_ascii": False})


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/")


def _unauthenticated() -> JsonResponse:
    return _fhir(operation_outcome("login", "Sign in first."), 401)


@require_GET
def metadata(request: HttpRequest) -> JsonResponse:
    """The CapabilityStatement (public)."""
    return _fhir(capability_statement(_base(request)))


@require_GET
def patient_read(request: HttpRequest, pk: str) -> JsonResponse:
    """Patient/{id}: 404 when missing or outside the caller's scope; audited as a view."""
    if not request.user.is_authenticated:
        return _unauthenticated()
    person = Person.objects.restrict(request.user).select_related("region").filter(pk=pk if pk.isdigit() else -1).first()
    if person is None:
        return _fhir(operation_outcome("not-found", f"Patient/{pk} is not known"), 404)
    audit.record(AuditAction.VIEW, obj=person, detail={"via": "fhir"})
    return _fhir(patient_resource(request.user, person))


@require_http_methods(["GET", "POST"])
def patient_search(request: HttpRequest) -> JsonResponse:
    """Patient?identifier=system|value (or POST Patient/_search, which keeps the number out of URLs
    and access logs): exact match through the blind index, within scope."""
    if not request.user.is_authenticated:
        return _unauthenticated()
    if not request.user.has_perm(permission_for(Person, "view")):
        return _fhir(bundle([], _base(request)))
    token = (request.POST if request.method == "POST" else request.GET).get("identifier", "")
    system, sep, value = token.rpartition("|")
    if not sep or not system.startswith(ID_SYSTEM_PREFIX) or not value:
        return _fhir(operation_outcome(
            "invalid", f"identifier must be '{ID_SYSTEM_PREFIX}<document type>|<number>'"), 400)
    try:
        people = services.find_by_id_number(request.user, system.removeprefix(ID_SYSTEM_PREFIX), value)
    except ValidationError as exc:
        message = "; ".join(f"{k}: {v[0]}" for k, v in exc.message_dict.items())
        return _fhir(operation_outcome("invalid", message), 400)
    audit.record_many(AuditAction.LIST, people, object_type="core.person", detail={"via": "fhir", "search": "identifier"})
    return _fhir(bundle([patient_resource(request.user, p) for p in people], _base(request)))
