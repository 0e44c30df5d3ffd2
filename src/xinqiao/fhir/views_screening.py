"""FHIR endpoints of screening: Questionnaire definitions (public), and a stored response as a
QuestionnaireResponse and its score Observation (signed in, scoped, audited, never with identity)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from xinqiao.core import audit
from xinqiao.core.models import AuditAction
from xinqiao.fhir.questionnaires import (
    questionnaire_for,
    questionnaire_response,
    questionnaire_url,
    score_observation,
)
from xinqiao.fhir.resources import bundle, operation_outcome
from xinqiao.fhir.views import _base, _fhir, _unauthenticated
from xinqiao.screening.instruments import INSTRUMENT_IDS
from xinqiao.screening.models import ScreeningResponse


def _not_found(reference: str) -> JsonResponse:
    return _fhir(operation_outcome("not-found", f"{reference} is not known"), 404)


@require_GET
def questionnaire_search(request: HttpRequest) -> JsonResponse:
    """Questionnaire (public): every instrument definition; ``url=<canonical>[|version]`` narrows."""
    wanted = request.GET.get("url", "")
    url, _sep, version = wanted.partition("|")
    found = []
    for instrument_id in INSTRUMENT_IDS:
        resource = questionnaire_for(instrument_id)
        if url and url != questionnaire_url(instrument_id):
            continue
        if version and version != resource["version"]:
            continue
        found.append(resource)
    return _fhir(bundle(found, _base(request)))


@require_GET
def questionnaire_read(request: HttpRequest, pk: str) -> JsonResponse:
    """Questionnaire/{instrument id} (public: a definition is not personal data)."""
    if pk not in INSTRUMENT_IDS:
        return _not_found(f"Questionnaire/{pk}")
    return _fhir(questionnaire_for(pk))


def _scoped_response(request: HttpRequest, pk: str) -> ScreeningResponse | None:
    return ScreeningResponse.objects.restrict(request.user).filter(pk=int(pk) if pk.isdigit() else -1).first()


def _read_response(request: HttpRequest, pk: str, reference: str, resource_type: str,
                   build: Callable[[ScreeningResponse], dict[str, Any]]) -> JsonResponse:
    """A resource built from one stored response: 401 signed out, 404 missing or out of scope, audited."""
    if not request.user.is_authenticated:
        return _unauthenticated()
    response = _scoped_response(request, pk)
    if response is None:
        return _not_found(reference)
    resource = build(response)
    audit.record(AuditAction.VIEW, obj=response, detail={"via": "fhir", "resource": resource_type})
    return _fhir(resource)


@require_GET
def questionnaire_response_read(request: HttpRequest, pk: str) -> JsonResponse:
    """QuestionnaireResponse/{id}: 404 when missing or outside the caller's scope; audited as a view."""
    return _read_response(request, pk, f"QuestionnaireResponse/{pk}", "QuestionnaireResponse", questionnaire_response)


@require_GET
def screening_observation_read(request: HttpRequest, pk: str) -> JsonResponse:
    """Observation/screening-{id}: the score of a response; same scope and audit as the response."""
    return _read_response(request, pk, f"Observation/screening-{pk}", "Observation", score_observation)
