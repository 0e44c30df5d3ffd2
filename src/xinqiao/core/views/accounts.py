"""Sign-in, sign-out and TOTP two-factor set-up/verification (django-otp)."""

from __future__ import annotations

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from xinqiao.core import audit
from xinqiao.core.forms import TokenForm
from xinqiao.core.models import AuditAction
from xinqiao.core.roles import requires_two_factor


class LoginView(auth_views.LoginView):
    """Username and password (argon2; django-axes counts failures and locks out)."""

    template_name = "core/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST-only sign-out."""


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify a TOTP code, or set up an authenticator app first if the user has none."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed is None:
        return _two_factor_setup(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if confirmed.verify_token(form.cleaned_data["token"]):
            otp_login(request, confirmed)
            next_url = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
                next_url = settings.LOGIN_REDIRECT_URL  # never redirect off-site after the second factor
            return redirect(next_url)
        form.add_error("token", _("The code is wrong or has expired. Enter the current 6-digit code."))
    return render(request, "core/two_factor_verify.html", {"form": form})


def _two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    device, _created = TOTPDevice.objects.get_or_create(user=user, confirmed=False, defaults={"name": "authenticator"})
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit.record(AuditAction.TWO_FACTOR, object_type="core.user", object_id=str(user.pk),
                             detail={"event": "totp_confirmed"})
            otp_login(request, device)
            messages.success(request, _("Two-factor sign-in is now set up."))
            return redirect(settings.LOGIN_REDIRECT_URL)
        form.add_error("token", _("The code does not match. Check the time on your phone and try again."))
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "core/two_factor_setup.html",
        {"form": form, "qr": _qr_svg(device.config_url), "secret": secret,
         "required": requires_two_factor(user)},
    )
