"""Helpers for view and API tests that are not about two-factor sign-in.

The test settings force TOTP for every role, so a plain ``client.force_login`` is redirected to
``/accounts/two-factor/``. ``login_verified`` signs in and marks the session OTP-verified the way
``django_otp.login`` does: the session holds the persistent id of a confirmed device.
"""

from __future__ import annotations

import re
from typing import Any

import django_otp
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

CJK = re.compile(r"[\u4e00-\u9fff]")


def otp_device(user: Any, *, confirmed: bool = True) -> TOTPDevice:
    """The user's TOTP device (created if missing)."""
    device, _created = TOTPDevice.objects.get_or_create(user=user, defaults={"name": "test", "confirmed": confirmed})
    if device.confirmed != confirmed:
        device.confirmed = confirmed
        device.save(update_fields=["confirmed"])
    return device


def login_verified(client: Client, user: Any) -> Client:
    """Force-log-in ``user`` on ``client`` and mark the session as OTP-verified."""
    client.force_login(user)
    device = otp_device(user)
    session = client.session
    session[django_otp.DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def verified_client(user: Any, **kwargs: Any) -> Client:
    """A new client signed in as ``user`` with a verified second factor."""
    return login_verified(Client(**kwargs), user)


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains a CJK ideograph."""
    return bool(CJK.search(text))


def fields_of(response: Any) -> list[str]:
    """The ``field`` names of an API error body ``{"detail": [{"field", "message"}]}``."""
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return [d["field"] for d in detail]
