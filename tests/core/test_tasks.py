"""Periodic jobs, and the Redis-backed cache and Celery broker when REDIS_URL points at a server."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from xinqiao.core import audit
from xinqiao.core.models import AuditAction, IdempotencyKey
from xinqiao.core.tasks import purge_idempotency_keys, verify_audit_chain

REDIS_URL = os.environ.get("XINQIAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:
        return False
    return True


@pytest.mark.django_db
def test_verify_audit_chain_task_runs_eagerly() -> None:
    audit.record(AuditAction.LOGIN, detail={"t": 1})
    result = verify_audit_chain.delay().get()
    assert result == {"ok": True, "checked": 1, "broken_id": None}


@pytest.mark.django_db
def test_purge_idempotency_keys_removes_only_old_ones(cast: dict[str, Any]) -> None:
    user = cast["community_doctor_a"]
    old = IdempotencyKey.objects.create(user=user, scope="s", key="old", request_hash="h", response={})
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    IdempotencyKey.objects.create(user=user, scope="s", key="new", request_hash="h", response={})
    assert purge_idempotency_keys.delay().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.skipif(not _redis_up(), reason=f"Redis not reachable at {REDIS_URL}")
def test_redis_cache_and_broker_round_trip() -> None:
    from django.core.cache import caches

    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                               "LOCATION": REDIS_URL}}):
        cache = caches.create_connection("default")
        cache.set("xinqiao-test", {"a": 1}, 30)
        assert cache.get("xinqiao-test") == {"a": 1}
        cache.delete("xinqiao-test")
    from xinqiao.celery import app

    with app.connection_for_write(REDIS_URL) as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.connected
