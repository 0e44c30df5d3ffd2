"""The HTTP API root: django-ninja, versioned under ``/api/v1/``, OpenAPI at ``/api/v1/docs``.

Errors always name the failing field, in the user's language (``Accept-Language`` or the
language cookie): ``{"detail": [{"field": "id_number", "message": "…"}]}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from xinqiao.caregroups.api import router as caregroups_router
from xinqiao.core.api import router as core_router
from xinqiao.core.idempotency import IdempotencyConflict
from xinqiao.followups.api import router as followups_router
from xinqiao.indicators.api import router as indicators_router
from xinqiao.paperwork.api import router as paperwork_router
from xinqiao.patients.api import router as patients_router
from xinqiao.referrals.api import router as referrals_router
from xinqiao.registry.api import public_router as services_router
from xinqiao.registry.api import router as registry_router
from xinqiao.screening.api import router as screening_router
from xinqiao.worklists.api import router as worklists_router

api = NinjaAPI(
    title="xinqiao API",
    version="1",
    urls_namespace="api-1",
    docs_url="/docs",
    description="心桥 xinqiao API v1. Personal data is scoped to the caller's region and masked per role.",
)
api.add_router("/", core_router)
api.add_router("/screening", screening_router)
api.add_router("/patients", patients_router)
api.add_router("/followups", followups_router)
api.add_router("/referrals", referrals_router)
api.add_router("/caregroups", caregroups_router)
api.add_router("/registry", registry_router)
api.add_router("/services", services_router)
api.add_router("/worklists", worklists_router)
api.add_router("/paperwork", paperwork_router)
api.add_router("/indicators", indicators_router)

_PYDANTIC_MESSAGES = {
    "missing": lambda e: _("This field is required."),
    "string_too_short": lambda e: _("This value is too short."),
    "string_too_long": lambda e: _("This value is too long."),
    "string_pattern_mismatch": lambda e: _("This value has the wrong format."),
    "int_parsing": lambda e: _("Enter a whole number."),
    "date_from_datetime_parsing": lambda e: _("Enter a date as YYYY-MM-DD."),
    "date_parsing": lambda e: _("Enter a date as YYYY-MM-DD."),
    "enum": lambda e: _("Choose one of the allowed values."),
    "literal_error": lambda e: _("Choose one of the allowed values."),
    "json_invalid": lambda e: _("The request body is not valid JSON."),
}
_LOCATION_PREFIXES = {"body", "query", "path", "header", "payload", "data", "form", "cookie"}


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Pydantic errors → ``[{"field", "message"}]`` with translated messages."""
    out = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ())]
        parts = [p for p in loc if p not in _LOCATION_PREFIXES]
        field = ".".join(parts) or (loc[-1] if loc else "")
        render = _PYDANTIC_MESSAGES.get(str(error.get("type")))
        out.append({"field": field, "message": render(error) if render else _("This value is not valid.")})
    return out


@api.exception_handler(NinjaValidationError)
def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": field_errors(list(exc.errors))}, status=422)


@api.exception_handler(DjangoValidationError)
def _django_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    detail = [{"field": f, "message": str(m)} for f, ms in exc.message_dict.items() for m in ms] \
        if hasattr(exc, "error_dict") else [{"field": "", "message": str(m)} for m in exc.messages]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(IdempotencyConflict)
def _conflict(request: HttpRequest, exc: IdempotencyConflict) -> HttpResponse:
    return api.create_response(request, {"detail": [{"field": "Idempotency-Key", "message": str(exc)}]}, status=422)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": _("Not found.")}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": _("You do not have permission to do this.")}, status=403)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": _("Sign in first.")}, status=401)
