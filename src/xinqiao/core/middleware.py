"""Request middleware: the audit context, idle-session timeout, and enforced two-factor sign-in."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from xinqiao.core.request_context import RequestInfo, client_address, reset_request_info, set_request_info
from xinqiao.core.roles import requires_two_factor

Handler = Callable[[HttpRequest], HttpResponse]
# Machine clients get JSON answers instead of redirects to HTML pages.
MACHINE_PREFIXES = ("/api/", "/fhir/")


class RequestContextMiddleware:
    """Make the acting user and the client address available to ``audit.record``."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        info = RequestInfo(
            user=getattr(request, "user", None),
            remote_addr=client_address(request.META, settings.AXES_IPWARE_PROXY_COUNT),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        token = set_request_info(info)
        try:
            return self.get_response(request)
        finally:
            reset_request_info(token)


class IdleTimeoutMiddleware:
    """Log out a session idle for longer than ``XINQIAO_IDLE_MINUTES`` (enforced server-side).

    The time last seen is rewritten only when it is ``TOUCH_SECONDS`` old or more: a session write is
    a transaction of three statements on every request otherwise (measured on the work-list page,
    docs/benchmarks.md). A session may therefore end up to a minute earlier than the idle limit.
    """

    SESSION_KEY = "xinqiao_last_seen"
    TOUCH_SECONDS = 60

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last = request.session.get(self.SESSION_KEY)
            if last is not None and now - float(last) > settings.XINQIAO_IDLE_MINUTES * 60:
                logout(request)
                if request.path.startswith(MACHINE_PREFIXES):
                    return JsonResponse({"detail": _("Your session expired after inactivity.")}, status=401)
                messages.info(request, _("You were signed out after %(minutes)d minutes without activity.")
                              % {"minutes": settings.XINQIAO_IDLE_MINUTES})
                return redirect_to_login(request.get_full_path())
            if last is None or now - float(last) >= self.TOUCH_SECONDS:
                request.session[self.SESSION_KEY] = now
        return self.get_response(request)


# Paths a signed-in user who still owes the second factor may reach.
# Public data (division codes, the FHIR capability statement) stays reachable, as for the anonymous.
TWO_FACTOR_EXEMPT_PREFIXES = (
    "/accounts/", "/i18n/", "/static/", "/healthz", "/regions/", "/api/v1/regions", "/fhir/metadata",
    "/screening/public/", "/screening/c/", "/api/v1/screening/",
    "/services/", "/api/v1/services/",
)


class TwoFactorRequiredMiddleware:
    """Roles that see identifiable data must pass TOTP before anything else (not in the demo)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            settings.XINQIAO_2FA_FORCED
            and user.is_authenticated
            and not user.is_verified()  # type: ignore[attr-defined]
            and requires_two_factor(user)
            and not request.path.startswith(TWO_FACTOR_EXEMPT_PREFIXES)
        ):
            if request.path.startswith(MACHINE_PREFIXES):
                return JsonResponse({"detail": _("Two-factor verification is required.")}, status=403)
            return redirect("core:two_factor")
        return self.get_response(request)
