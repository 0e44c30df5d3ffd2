"""Audit receivers for sign-in events (django.contrib.auth and django-axes signals)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from xinqiao.core import audit
from xinqiao.core.models.audit import AuditAction


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record(AuditAction.LOGIN, actor=user, object_type="core.user", object_id=user.pk)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(AuditAction.LOGOUT, actor=user, object_type="core.user", object_id=user.pk)


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # The attempted username is recorded (not the password): it is what an investigator needs.
    audit.record(AuditAction.LOGIN_FAILED, detail={"username": str(credentials.get("username", ""))[:150]})


@receiver(user_locked_out)
def _locked_out(sender: Any, request: Any, username: str | None = None, **kwargs: Any) -> None:
    audit.record(AuditAction.LOCKOUT, detail={"username": (username or "")[:150]})
