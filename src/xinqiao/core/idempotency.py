"""Idempotent submissions: the same key from the same user stores once and answers the same.

A client sends ``Idempotency-Key`` with a POST. The first request runs and its answer is stored
in the same transaction as its writes; a retry with the same key and the same body gets that
stored answer (no second write); the same key with a different body is refused (422).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

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
