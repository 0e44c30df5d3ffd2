"""Template context shared by every page: environment banner, 2FA state, role labels."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from xinqiao.core.roles import requires_two_factor, role_labels


def platform(request: HttpRequest) -> dict[str, Any]:
    """Values the base layout needs."""
    user = request.user
    signed_in = user.is_authenticated
    return {
        "XINQIAO_ENV": settings.XINQIAO_ENV,
        "DEMO": settings.XINQIAO_ENV == "demo",
        "TWO_FACTOR_FORCED": settings.XINQIAO_2FA_FORCED,
        "two_factor_owed": signed_in and requires_two_factor(user) and not user.is_verified(),  # type: ignore[union-attr]
        "user_role_labels": role_labels(user.role_codes) if signed_in else [],  # type: ignore[union-attr]
    }
