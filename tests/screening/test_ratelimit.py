"""The rate-limit counter: one count per request, expiring with its window, on the local-memory
cache and on Redis (production; one ``MULTI`` round trip). The Redis tests run when a Redis server
answers at ``REDIS_URL`` (default ``redis://127.0.0.1:6379/15``), on a key prefix of their own."""

from __future__ import annotations

import os
import secrets
import time
from typing import Any
from unittest import mock

import pytest
from django.core.cache import caches
from django.test import override_settings

from xinqiao.screening import ratelimit

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
RATE = ratelimit.Rate(3, 600)


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:  # any failure means: no Redis to test against
        return False


def _verdicts(rf: Any, n: int, address: str = "192.0.2.1", now: float | None = None) -> list[tuple[bool, int]]:
    request = rf.post("/", REMOTE_ADDR=address)
    return [(v.allowed, v.count) for v in (ratelimit.hit(request, "t", RATE, now=now) for _ in range(n))]


def test_counts_each_request_once_per_window_and_address(rf: Any) -> None:
    caches["default"].clear()
    now = time.time()
    assert _verdicts(rf, 4, now=now) == [(True, 1), (True, 2), (True, 3), (False, 4)]
    assert _verdicts(rf, 1, address="192.0.2.2", now=now) == [(True, 1)]
    assert _verdicts(rf, 1, now=now + RATE.window) == [(True, 1)]  # the next window


def test_an_expired_counter_starts_again(rf: Any) -> None:
    caches["default"].clear()
    now = time.time()
    _verdicts(rf, 2, now=now)
    key = next(k for k in caches["default"]._cache if ratelimit.KEY_PREFIX in k)  # type: ignore[attr-defined]
    caches["default"]._expire_info[key] = time.time() - 1  # type: ignore[attr-defined]  # LocMemCache internals
    assert _verdicts(rf, 1, now=now) == [(True, 1)]


@pytest.mark.skipif(not _redis_up(), reason=f"no Redis at {REDIS_URL}")
def test_redis_counts_with_one_command_and_the_expiry(rf: Any) -> None:
    prefix = f"xq-test-{secrets.token_hex(4)}"
    backend = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": prefix}
    with override_settings(CACHES={"default": backend}):
        cache = caches["default"]
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        try:
            now = time.time()
            _verdicts(rf, 1, address="192.0.2.99", now=now)  # loads the script once
            with mock.patch.object(type(client), "execute_command", autospec=True,
                                   side_effect=type(client).execute_command) as sent:
                assert _verdicts(rf, 4, now=now) == [(True, 1), (True, 2), (True, 3), (False, 4)]
            assert [call.args[1] for call in sent.call_args_list] == ["EVALSHA"] * 4  # one command per hit
            (key,) = (k for k in client.keys(f"{prefix}:*") if int(client.get(k)) == 4)
            assert 0 < client.ttl(key) <= RATE.window + 1
            assert cache.get(key.decode().split(":", 2)[2]) == 4  # Django reads the counter as written
        finally:
            for key in client.keys(f"{prefix}:*"):
                client.delete(key)
