"""Typed readers for environment variables: every settings knob goes through one of these.

Each reader fails loudly with ``ImproperlyConfigured`` naming the variable when the value is
nonsense, rather than silently falling back (Healthchecks' ``envbool``/``envint`` pattern).
"""

from __future__ import annotations

import base64
import binascii
import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """A string variable; ``default`` when unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """A boolean variable: 1/true/yes/on or 0/false/no/off (case-insensitive)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """An integer variable, optionally bounded below."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated list; blanks dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    """One of a fixed set of values."""
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def parse_key_ring(name: str, raw: str) -> dict[str, bytes]:
    """Parse ``id:base64key,id:base64key``; the first entry is the active key.

    Each key must decode (standard or URL-safe base64) to exactly 32 bytes (AES-256).
    Returns an insertion-ordered dict ``{key_id: key_bytes}``.
    """
    ring: dict[str, bytes] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id or not key_id.isalnum():
            raise ImproperlyConfigured(f"{name}: each entry must be 'id:base64key' with an alphanumeric id")
        try:
            key = base64.urlsafe_b64decode(encoded.replace("+", "-").replace("/", "_") + "==")
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"{name}: key {key_id!r} is not valid base64") from None
        if len(key) != 32:
            raise ImproperlyConfigured(f"{name}: key {key_id!r} must be 32 bytes, got {len(key)}")
        if key_id in ring:
            raise ImproperlyConfigured(f"{name}: key id {key_id!r} appears twice")
        ring[key_id] = key
    return ring
