"""Sign-in: the login page, django-axes lock-out (audited), password hashing and policy, enforced
TOTP two-factor sign-in, the idle-session timeout, and the security headers of a page."""

from __future__ import annotations

import runpy
import time
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD
from tests.helpers import login_verified, otp_device
from xinqiao.core.forms import TokenForm
from xinqiao.core.middleware import IdleTimeoutMiddleware
from xinqiao.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db

LOGIN = reverse("core:login")
TWO_FACTOR = reverse("core:two_factor")


def attempt(username: str, password: str) -> object:
    """One sign-in attempt from a fresh browser."""
    return Client().post(LOGIN, {"username": username, "password": password})


def signed_in(resp) -> bool:  # type: ignore[no-untyped-def]
    return resp.status_code == 302 and resp.wsgi_request.user.is_authenticated


# --- Login page and lock-out ---------------------------------------------------------------------


def test_login_page_renders(client: Client) -> None:
    resp = client.get(LOGIN)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'name="username"' in html and 'name="password"' in html and "csrfmiddlewaretoken" in html


def test_login_with_right_password_signs_in_and_audits(cast) -> None:  # type: ignore[no-untyped-def]
    resp = attempt("police_a", PASSWORD)
    assert signed_in(resp)
    assert resp.url == reverse("core:home")
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor_username="police_a").exists()


def test_wrong_password_is_refused_and_audited(cast) -> None:  # type: ignore[no-untyped-def]
    resp = attempt("police_a", "wrong-password")
    assert resp.status_code == 200
    assert not resp.wsgi_request.user.is_authenticated
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert event.detail == {"username": "police_a"}
    assert "wrong-password" not in str(event.detail)


def test_repeated_failures_lock_the_account(cast) -> None:  # type: ignore[no-untyped-def]
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [attempt("police_a", f"wrong-{i}").status_code for i in range(limit)]
    assert statuses[:-1] == [200] * (limit - 1)
    assert statuses[-1] == 429  # the attempt that reaches the limit already answers "locked"
    locked = attempt("police_a", PASSWORD)
    assert locked.status_code == 429  # axes' default AXES_HTTP_RESPONSE_CODE, our lock-out template
    assert not locked.wsgi_request.user.is_authenticated
    assert "core/locked_out.html" in [t.name for t in locked.templates]
    assert AuditEvent.objects.filter(action=AuditAction.LOCKOUT, detail__username="police_a").exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).count() >= limit
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN, actor_username="police_a").exists()


def test_lockout_is_per_account(cast) -> None:  # type: ignore[no-untyped-def]
    for i in range(settings.AXES_FAILURE_LIMIT):
        attempt("police_a", f"wrong-{i}")
    assert signed_in(attempt("police_b", PASSWORD))


def test_successful_login_resets_the_failure_count(cast) -> None:  # type: ignore[no-untyped-def]
    limit = settings.AXES_FAILURE_LIMIT
    for i in range(limit - 1):
        assert attempt("police_a", f"wrong-{i}").status_code == 200
    assert signed_in(attempt("police_a", PASSWORD))
    for i in range(limit - 1):
        assert attempt("police_a", f"wrong-again-{i}").status_code == 200
    assert signed_in(attempt("police_a", PASSWORD))
    assert not AuditEvent.objects.filter(action=AuditAction.LOCKOUT).exists()


# --- Passwords -----------------------------------------------------------------------------------


def test_argon2_is_the_first_hasher_outside_tests(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The test settings put a fast hasher first; Argon2 follows it, and leads everywhere else.
    assert settings.PASSWORD_HASHERS[1] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    monkeypatch.setenv("XINQIAO_ENV", "demo")
    monkeypatch.setenv("XINQIAO_VAR_DIR", str(tmp_path))
    demo = runpy.run_path(settings.BASE_DIR / "settings.py")
    assert demo["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "django.contrib.auth.hashers.MD5PasswordHasher" not in demo["PASSWORD_HASHERS"]


def test_argon2_hashing_works() -> None:
    encoded = make_password("Good-Password-2026", hasher="argon2")
    assert encoded.startswith("argon2$")
    assert identify_hasher(encoded).algorithm == "argon2"
    assert check_password("Good-Password-2026", encoded)
    assert not check_password("Good-Password-2027", encoded)


@pytest.mark.parametrize("password", ["short", "alllowercaseletters", "1234567890123", "password1234"])
def test_password_validators_reject(password: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(password)


def test_password_validators_accept_a_good_password() -> None:
    validate_password("Good-Password-2026")


# --- Two-factor ----------------------------------------------------------------------------------


def current_token(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def other_token(device: TOTPDevice) -> str:
    return f"{(int(current_token(device)) + 500000) % 1000000:06d}"


@pytest.mark.parametrize("path", ["/", "/persons/", "/audit/", "/organisations/"])
def test_unverified_user_is_sent_to_two_factor(client: Client, cast, path: str) -> None:  # type: ignore[no-untyped-def]
    client.force_login(cast["community_doctor_a"])
    resp = client.get(path)
    assert resp.status_code == 302
    assert resp.url == TWO_FACTOR


def test_unverified_user_api_is_403_json(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    client.force_login(cast["community_doctor_a"])
    for path in ("/api/v1/me", "/api/v1/persons"):
        resp = client.get(path)
        assert resp.status_code == 403
        assert resp["Content-Type"].startswith("application/json")
        assert resp.json()["detail"]


def test_unverified_user_may_reach_exempt_pages(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    client.force_login(cast["community_doctor_a"])
    assert client.get("/regions/").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/regions/search/", {"q": "tianhe"}).status_code == 200


def test_user_without_role_is_not_asked_for_two_factor(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    client.force_login(cast["no_role"])
    assert client.get("/").status_code == 200


def test_two_factor_setup_shows_qr_and_secret(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    user = cast["community_doctor_a"]
    client.force_login(user)
    resp = client.get(TWO_FACTOR)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert '<img src="data:image/svg+xml;base64,' in html
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = resp.context["secret"]
    assert len(secret) >= 16 and f'<code id="totp-secret">{secret}</code>' in html
    import base64

    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    # Reloading keeps the same unconfirmed device (the secret the user scanned stays valid).
    assert client.get(TWO_FACTOR).context["secret"] == secret
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_two_factor_setup_with_correct_code_confirms(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    user = cast["community_doctor_a"]
    client.force_login(user)
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=user)
    resp = client.post(TWO_FACTOR, {"token": current_token(device)})
    assert resp.status_code == 302
    assert resp.url == reverse("core:home")
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action=AuditAction.TWO_FACTOR, actor_username="community_doctor_a").exists()
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me").json()["two_factor_verified"] is True


def test_two_factor_setup_with_wrong_code_names_the_field(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    user = cast["community_doctor_a"]
    client.force_login(user)
    client.get(TWO_FACTOR)
    device = TOTPDevice.objects.get(user=user)
    resp = client.post(TWO_FACTOR, {"token": other_token(device)})
    assert resp.status_code == 200
    assert "token" in resp.context["form"].errors
    with translation.override("zh-hans"):
        field_label = str(TokenForm.base_fields["token"].label)
    assert f"{field_label}:" in resp.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/").status_code == 302


def test_two_factor_malformed_code_names_the_field(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    client.force_login(cast["community_doctor_a"])
    resp = client.post(TWO_FACTOR, {"token": "12ab"})
    assert resp.status_code == 200
    assert "token" in resp.context["form"].errors


def test_two_factor_with_confirmed_device_is_the_verify_form(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    user = cast["community_doctor_a"]
    device = otp_device(user, confirmed=True)
    client.force_login(user)
    resp = client.get(TWO_FACTOR)
    assert resp.status_code == 200
    assert "core/two_factor_verify.html" in [t.name for t in resp.templates]
    assert "totp-secret" not in resp.content.decode() and "data:image/svg+xml" not in resp.content.decode()
    wrong = client.post(TWO_FACTOR, {"token": other_token(device)})
    assert wrong.status_code == 200 and "token" in wrong.context["form"].errors
    assert client.get("/").status_code == 302
    device.refresh_from_db()
    device.throttling_failure_count = 0  # the wrong code above started throttling
    device.throttling_failure_timestamp = None
    device.save()
    ok = client.post(f"{TWO_FACTOR}?next=/persons/", {"token": current_token(device)})
    assert ok.status_code == 302 and ok.url == "/persons/"
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "http://testserver.evil/"])
def test_two_factor_verify_does_not_redirect_off_site(client: Client, cast, next_url: str) -> None:  # type: ignore[no-untyped-def]
    user = cast["community_doctor_a"]
    device = otp_device(user, confirmed=True)
    client.force_login(user)
    resp = client.post(TWO_FACTOR + "?" + urlencode({"next": next_url}), {"token": current_token(device)})
    assert resp.status_code == 302
    assert resp.url == reverse("core:home")
    assert client.get("/").status_code == 200


@override_settings(XINQIAO_2FA_FORCED=False)
def test_two_factor_not_forced_means_no_redirect(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    client.force_login(cast["community_doctor_a"])
    assert client.get("/").status_code == 200
    assert client.get("/persons/").status_code == 200
    assert client.get("/api/v1/me").status_code == 200


def test_two_factor_page_needs_login(client: Client) -> None:
    resp = client.get(TWO_FACTOR)
    assert resp.status_code == 302 and resp.url.startswith(LOGIN)


# --- Idle timeout --------------------------------------------------------------------------------


def go_idle(client: Client) -> None:
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] = time.time() - (settings.XINQIAO_IDLE_MINUTES * 60 + 5)
    session.save()


def test_idle_session_is_signed_out(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    assert client.get("/persons/").status_code == 200
    go_idle(client)
    resp = client.get("/persons/")
    assert resp.status_code == 302
    assert resp.url == f"{LOGIN}?next=/persons/"
    assert not resp.wsgi_request.user.is_authenticated
    assert client.get("/").url.startswith(LOGIN)  # the session is gone, not just this request
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, actor_username="community_doctor_a").exists()


def test_idle_session_api_is_401(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    assert client.get("/api/v1/me").status_code == 200
    go_idle(client)
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.json()["detail"]
    assert client.get("/api/v1/me").status_code == 401


def test_active_session_is_kept(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] = time.time() - (settings.XINQIAO_IDLE_MINUTES * 60 - 30)
    session.save()
    assert client.get("/persons/").status_code == 200
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] > time.time() - 5


def test_a_recent_time_last_seen_is_not_rewritten(client: Client, cast) -> None:  # type: ignore[no-untyped-def]
    login_verified(client, cast["community_doctor_a"])
    session = client.session
    recent = time.time() - (IdleTimeoutMiddleware.TOUCH_SECONDS - 20)
    session[IdleTimeoutMiddleware.SESSION_KEY] = recent
    session.save()
    assert client.get("/persons/").status_code == 200
    assert client.session[IdleTimeoutMiddleware.SESSION_KEY] == recent  # no session write for it


# --- Security headers ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/accounts/login/", "/regions/"])
def test_security_headers(client: Client, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200
    csp = resp["Content-Security-Policy"]
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives["script-src"] == "script-src 'self'"
    assert "'unsafe-inline'" not in csp
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert resp["X-Frame-Options"] == "DENY"
    assert resp["X-Content-Type-Options"] == "nosniff"
    assert resp["Referrer-Policy"] == "same-origin"
