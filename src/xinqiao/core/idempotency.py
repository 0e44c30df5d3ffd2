"""Idempotent submissions: the same key from the same user stores once and answers the same.

A client sends ``Idempotency-Key`` with a POST. The first request runs and its answer is stored
in the same transaction as its writes; a retry with the same key and the same body gets that
stored answer (no second write); the same key with a different body is refused (422).
Pages do the same with a ``KeyedForm``'s hidden key through :func:`submit_form`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xinqiao.core.models import IdempotencyKey


class IdempotencyConflict(Exception):
    """The key was already used for a different request."""

    def __init__(self) -> None:
        super().__init__(_("This Idempotency-Key was already used for a different request."))


def request_fingerprint(payload: Any) -> str:
    """A stable hash of the request body."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def run_once(
    user: Any, scope: str, key: str, payload: Any, action: Callable[[], tuple[int, Any]]
) -> tuple[int, Any, bool]:
    """Run ``action`` once per (user, scope, key); returns (status, body, replayed)."""
    fingerprint = request_fingerprint(payload)
    existing = IdempotencyKey.objects.filter(user=user, scope=scope, key=key).first()
    if existing is not None:
        if existing.request_hash != fingerprint:
            raise IdempotencyConflict
        return existing.status_code, existing.response, True
    try:
        with transaction.atomic():
            status, body = action()
            IdempotencyKey.objects.create(
                user=user, scope=scope, key=key, request_hash=fingerprint, response=body, status_code=status
            )
    except IntegrityError:
        # A concurrent retry won the race: its writes committed, ours rolled back. Answer with its result.
        existing = IdempotencyKey.objects.filter(user=user, scope=scope, key=key).first()
        if existing is None:
            raise
        if existing.request_hash != fingerprint:
            raise IdempotencyConflict from None
        return existing.status_code, existing.response, True
    return status, body, False


def submit_form(request: Any, scope: str, form: Any, action: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    """Run a valid ``KeyedForm``'s service call once per form key; its answer, or ``None`` with the
    errors put on the form (a service's field errors on their fields; a key reused with other
    content on the form, with a fresh key so that the corrected page can be sent)."""
    try:
        _status, body, _replayed = run_once(request.user, scope, form.cleaned_data["form_key"], form.payload(),
                                            lambda: (200, action()))
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
    except IdempotencyConflict:
        form.add_error(None, _("This form was already sent with different content. Check it and send it again."))
        data = form.data.copy()
        data["form_key"] = ""
        form.data = data
        return None
    out: dict[str, Any] = body
    return out
