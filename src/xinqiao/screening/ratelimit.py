"""A small fixed-window rate limit for public forms that never stores a client address.

The counter's cache key holds ``HMAC-SHA256(daily salt, client address)``, where the daily salt is
itself an HMAC of ``settings.SECRET_KEY`` and the UTC date. The raw address is never written
anywhere (not in a key, not in a value), and yesterday's digests cannot be linked to today's: the
salt changes every day and is not stored. The counts live in Django's cache (Redis in production,
local memory otherwise) and expire with their window. Counting costs one cache round trip: on Redis
one Lua script (``SET key 0 EX <window> NX`` then ``INCR key``, atomic); elsewhere an ``incr`` of
the existing counter, ``add`` only for the first request of a window.

The rate is ``"<count>/<seconds>"`` (``"30/600"``: 30 requests per 10 minutes); a unit suffix is
accepted on the window (``"30/10m"``, ``"100/1h"``). The public self-screening reads it from
``settings.XINQIAO_PUBLIC_RATE`` (default :data:`DEFAULT_PUBLIC_RATE`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest

from xinqiao.core.request_context import client_address

__all__ = [
    "DEFAULT_PUBLIC_RATE",
    "Rate",
    "Verdict",
    "cache_key",
    "client_digest",
    "daily_salt",
    "hit",
    "parse_rate",
    "public_rate",
]

DEFAULT_PUBLIC_RATE = "30/600"
KEY_PREFIX = "xinqiao:rl"
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smh]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Rate:
    """``limit`` requests per ``window`` seconds."""

    limit: int
    window: int


@dataclass(frozen=True)
class Verdict:
    """The outcome of one counted request."""

    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the current window ends


def parse_rate(value: str) -> Rate:
    """``"30/600"`` → ``Rate(30, 600)``; ``"30/10m"`` → ``Rate(30, 600)``. Raises ``ValueError``."""
    match = _RATE.match(value or "")
    if not match:
        raise ValueError(f"a rate is '<count>/<seconds>', e.g. '30/600'; got {value!r}")
    limit, window = int(match.group(1)), int(match.group(2)) * _UNIT[match.group(3)]
    if limit < 1 or window < 1:
        raise ValueError(f"a rate needs a positive count and window; got {value!r}")
    return Rate(limit, window)


def public_rate() -> Rate:
    """The rate of the public self-screening submissions (``settings.XINQIAO_PUBLIC_RATE``)."""
    return parse_rate(str(getattr(settings, "XINQIAO_PUBLIC_RATE", DEFAULT_PUBLIC_RATE)))


def daily_salt(day: date) -> bytes:
    """The salt of one UTC day, derived from ``SECRET_KEY``; never stored (only kept in memory)."""
    return _salt(settings.SECRET_KEY, day)


@lru_cache(maxsize=4)
def _salt(secret: str, day: date) -> bytes:
    return hmac.new(secret.encode(), f"xinqiao.ratelimit.salt:{day.isoformat()}".encode(), hashlib.sha256).digest()


def client_digest(request: HttpRequest, *, now: float | None = None) -> str:
    """HMAC-SHA256 of the client address under today's salt (hex). Honours the proxy count setting
    used for sign-in lock-outs (``XINQIAO_PROXY_COUNT``), so a client cannot forge its address."""
    now = time.time() if now is None else now
    address = client_address(request.META, getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0)) or "unknown"
    day = datetime.fromtimestamp(now, tz=UTC).date()
    return hmac.new(daily_salt(day), address.encode(), hashlib.sha256).hexdigest()


def cache_key(scope: str, digest: str, window_index: int) -> str:
    """The counter of one client in one window of one scope."""
    return f"{KEY_PREFIX}:{scope}:{window_index}:{digest}"


def hit(request: HttpRequest, scope: str, rate: Rate, *, now: float | None = None) -> Verdict:
    """Count one request of this client in ``scope``; ``allowed`` is false once over the limit."""
    now = time.time() if now is None else now
    window_index = int(now // rate.window)
    count = _count(cache_key(scope, client_digest(request, now=now), window_index), rate.window + 1)
    retry_after = max(1, int((window_index + 1) * rate.window - now))
    return Verdict(allowed=count <= rate.limit, count=count, limit=rate.limit, retry_after=retry_after)


def _count(key: str, timeout: int) -> int:
    """Add one to the counter ``key`` (created with ``timeout`` seconds to live); the new count."""
    cache = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(cache, RedisCache):
        return _count_redis(cache, key, timeout)
    try:
        return int(cache.incr(key))  # the common case: the window's counter exists
    except ValueError:  # first request of the window (or the counter just expired)
        if cache.add(key, 1, timeout=timeout):
            return 1
        try:
            return int(cache.incr(key))  # another process created it in between
        except ValueError:  # and it expired at once: start over
            cache.set(key, 1, timeout=timeout)
            return 1


def _count_redis(cache: RedisCache, key: str, timeout: int) -> int:
    """One command: a Lua script that creates the counter at 0 with its expiry unless it exists,
    then increments it, atomically (a counter never exists without its expiry). Django's own
    ``add`` + ``incr`` is three round trips (``SET NX``, ``EXISTS``, ``INCR``)."""
    full_key = cache.make_key(key)  # ours: ASCII, no spaces, < 250 characters (nothing to validate)
    client, script = _redis_counter(cache._cache)  # type: ignore[attr-defined]  # Django's RedisCacheClient
    return int(script(keys=[full_key], args=[timeout], client=client))


_COUNT_LUA = "redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX') return redis.call('INCR', KEYS[1])"


@lru_cache(maxsize=64)
def _redis_counter(cache_client: Any) -> tuple[Any, Any]:
    """A write client of Django's Redis cache (on its connection pool) and the registered script.
    Kept, because Django's ``get_client()`` builds a new ``redis.Redis`` object on every call,
    which costs more CPU than the command itself (~0.1 ms)."""
    client = cache_client.get_client(write=True)
    return client, client.register_script(_COUNT_LUA)
