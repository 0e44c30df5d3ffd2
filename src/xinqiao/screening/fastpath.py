"""The lean path for anonymous public submissions (``POST /api/v1/screening/responses``).

The submission endpoint is the one public write under sustained load (issue 4: ≥ 800 PHQ-9
submissions/s on 2 cores). Through the whole middleware stack, URL resolution and django-ninja an
anonymous submission spent most of its CPU in layers that do nothing for it: sessions, CSRF, auth,
2FA, messages, Axes, htmx and WhiteNoise (see ``docs/benchmarks.md``). :class:`AnonymousSubmissionMiddleware`,
listed **first** in ``MIDDLEWARE``, takes exactly these requests:

* ``POST`` to the endpoint's own path, ``Content-Type: application/json``, an ``Idempotency-Key``;
* no session cookie and no ``Authorization`` header, i.e. anonymous: nothing in them could
  authenticate (sessions are the only authentication of this endpoint);
* a body that the endpoint's own schema (:class:`~xinqiao.screening.schemas.ResponseIn`) accepts,
  a public submission (a ``region_code``, no campaign ``access_code``), answers that the same
  scoring engine accepts for a known region.

Anything else (a campaign, a signed-in caller, any error to report) goes on, untouched, to the full
stack, which answers exactly as before: the checks above have no side effect, so the rate-limit
counter and the database see every request once. For a request it takes, the lean path runs the
configured middleware minus :data:`SKIPPED` (security headers and HTTPS redirect, host
validation, the caller's language, X-Frame-Options, CSP, the audit request context), then: the
shared per-address rate limit (429 with ``Retry-After`` and the crisis line), the idempotent store
(:func:`~xinqiao.screening.services.store_submission`: one ``INSERT … ON CONFLICT DO NOTHING``)
and the same JSON body as the API (rendered by the same django-ninja API). A middleware it does not
know is kept; if one that it keeps needs URL resolution (``process_view`` and the like), the lean
path switches itself off.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import MiddlewareNotUsed, RequestDataTooBig, ValidationError
from django.core.handlers.exception import convert_exception_to_response
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string
from pydantic import ValidationError as SchemaError

from xinqiao.screening import ratelimit, services
from xinqiao.screening.api import PUBLIC_RATE_SCOPE, api_response_429, created_reply, submission_key
from xinqiao.screening.models import Source
from xinqiao.screening.schemas import ResponseIn

__all__ = ["REPLACED", "SKIPPED", "AnonymousSubmissionMiddleware", "OncePolicyCSPMiddleware", "lean_middleware"]

Handler = Callable[[HttpRequest], Any]

#: Middleware the lean path leaves out, with why each does nothing for an anonymous JSON submission.
SKIPPED: dict[str, str] = {
    "whitenoise.middleware.WhiteNoiseMiddleware": "serves static files only; the API is not one",
    "django.contrib.sessions.middleware.SessionMiddleware": "no session cookie, and the endpoint starts no session",
    "django.middleware.csrf.CsrfViewMiddleware": "the endpoint is csrf_exempt (django-ninja); no cookie authenticates",
    "django.contrib.auth.middleware.AuthenticationMiddleware": "no session: the caller is AnonymousUser (set here)",
    "django_otp.middleware.OTPMiddleware": "second factor of a signed-in user; there is none",
    "django.contrib.messages.middleware.MessageMiddleware": "no messages in a JSON answer",
    "django_htmx.middleware.HtmxMiddleware": "htmx request details; never read by the API",
    "xinqiao.core.middleware.IdleTimeoutMiddleware": "idle timeout of a signed-in session; there is none",
    "xinqiao.core.middleware.TwoFactorRequiredMiddleware": "2FA of a signed-in user (and the path is exempt)",
    "axes.middleware.AxesMiddleware": "answers lock-outs of sign-in attempts; a submission is none",
}

#: Kept, but replaced in the lean stack by a subclass doing the same for less (see the class).
REPLACED: dict[str, str] = {
    "csp.middleware.CSPMiddleware": f"{__name__}.OncePolicyCSPMiddleware",
}

#: The request attribute carrying the scored submission from the check to the view.
_ATTRIBUTE = "_xinqiao_scored_submission"


@cache
def _endpoint() -> str:
    return reverse("api-1:screening_responses")


def _ninja() -> Any:
    from xinqiao.api import api  # the root API: its renderer and its error handlers

    return api


def lean_middleware() -> list[str]:
    """The configured ``MIDDLEWARE`` the lean path runs: all but :data:`SKIPPED` and itself, with
    :data:`REPLACED` substituted."""
    own = f"{__name__}.{AnonymousSubmissionMiddleware.__name__}"
    return [REPLACED.get(path, path) for path in settings.MIDDLEWARE if path not in SKIPPED and path != own]


_CSP_OWN_POLICY = ("_csp_exempt", "_csp_exempt_ro", "_csp_config", "_csp_update", "_csp_replace",
                   "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
_csp_headers: dict[str, list[tuple[str, str]]] = {}


@receiver(setting_changed)
def _forget_csp_headers(*, setting: str, **_: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _csp_headers.clear()


class OncePolicyCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, building the headers once per path instead of per response.

    django-csp rebuilds the policy string (``asdict`` of its parts, then ``build_policy``) for every
    response. On the lean path no view sets a per-response policy and nothing asks for a nonce, so
    the headers are those of the configured policy: the parent builds them the first time (and
    whenever settings change), then they are copied. A response with its own policy, a nonce, or
    one the parent leaves alone (404/500 under DEBUG) goes to the parent unchanged.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (getattr(request, "_csp_nonce", None) is not None
                or any(hasattr(response, name) for name in _CSP_OWN_POLICY)
                or (settings.DEBUG and response.status_code in (404, 500))):
            return super().process_response(request, response)
        headers = _csp_headers.get(request.path_info)
        if headers is None:
            probe = super().process_response(request, HttpResponse())
            headers = _csp_headers[request.path_info] = [
                (name, probe[name]) for name in (HEADER, HEADER_REPORT_ONLY) if name in probe
            ]
            return self.process_response(request, response)
        for name, value in headers:
            if name not in response:
                response[name] = value
        # As the parent does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


def scored_anonymous_submission(request: HttpRequest) -> services.ScoredSubmission | None:
    """The scored submission if the lean path may answer ``request``; ``None`` sends it to the full
    stack. Reads and validates only: no counter, no row, no audit."""
    if request.method != "POST" or request.path != _endpoint():
        return None
    meta = request.META
    key = meta.get("HTTP_IDEMPOTENCY_KEY")
    if (not key or "HTTP_AUTHORIZATION" in meta or settings.SESSION_COOKIE_NAME in request.COOKIES
            or request.content_type != "application/json"):
        return None
    try:
        data = json.loads(request.body)
        payload = ResponseIn.model_validate(data) if isinstance(data, dict) else None
    except (RequestDataTooBig, ValueError, SchemaError):  # pydantic's error is a ValueError too
        return None
    if payload is None or payload.access_code or not payload.region_code:
        return None
    submission = services.Submission(instrument=payload.instrument, answers=list(payload.answers),
                                     source=Source.PUBLIC, region_code=payload.region_code,
                                     key=submission_key(None, key))
    try:
        return services.prepare_submission(submission)
    except ValidationError:
        return None  # the full stack says what is wrong, in the caller's language


def submit(request: HttpRequest) -> HttpResponse:
    """The lean view: rate limit, store once, answer as the API does."""
    scored: services.ScoredSubmission = getattr(request, _ATTRIBUTE)
    verdict = ratelimit.hit(request, PUBLIC_RATE_SCOPE, ratelimit.public_rate())
    if not verdict.allowed:
        return api_response_429(request, verdict.retry_after)
    try:
        response, created = services.store_submission(scored)
    except ValidationError as exc:  # the key was used for other content
        answer: HttpResponse = _ninja().on_exception(request, exc)
        return answer
    reply: HttpResponse = _ninja().create_response(request, created_reply(response, created), status=201)
    return reply


class AnonymousSubmissionMiddleware:
    """First in ``MIDDLEWARE``: answers anonymous public submissions through a lean stack, hands
    every other request to the rest of the stack unchanged."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self._lean: Handler | None = None
        self._enabled = True

    def __call__(self, request: HttpRequest) -> HttpResponse:
        scored = scored_anonymous_submission(request) if self._enabled else None
        if scored is None:
            return self.get_response(request)
        lean = self._lean or self._build()
        if lean is None:
            return self.get_response(request)
        setattr(request, _ATTRIBUTE, scored)
        request.user = AnonymousUser()
        response = lean(request)
        # As on the full stack, where reading request.user looks at the session cookie.
        patch_vary_headers(response, ("Cookie",))
        return response

    def _build(self) -> Handler | None:
        """The lean stack, as Django builds the full one (each layer turns exceptions into responses)."""
        handler: Handler = convert_exception_to_response(submit)
        for path in reversed(lean_middleware()):
            try:
                layer = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if any(hasattr(layer, hook) for hook in ("process_view", "process_exception",
                                                     "process_template_response")):
                self._enabled = False  # it needs the URL resolution the lean path skips
                return None
            handler = convert_exception_to_response(layer)
        self._lean = handler
        return handler
