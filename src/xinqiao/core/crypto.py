"""Field-level encryption (AES-256-GCM) with a rotatable key ring, and HMAC blind indexes.

Stored form: ``v1.<key id>.<urlsafe base64 of nonce(12) | ciphertext | tag(16)>``. The key id in
clear lets ``xinqiao rotate-keys`` find rows still under an old key with one SQL filter. The
associated data binds a ciphertext to its column (``app.model.field``), so a value copied into
another column does not decrypt. The blind index is HMAC-SHA256 under a separate key that does not
rotate with the field keys, so exact look-ups and de-duplication keep working across rotations.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

VERSION = "v1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value could not be decrypted (unknown key id, tampering, or wrong column)."""


@lru_cache(maxsize=8)
def _ciphers(ring_items: tuple[tuple[str, bytes], ...]) -> dict[str, AESGCM]:
    return {key_id: AESGCM(key) for key_id, key in ring_items}


def key_ring() -> dict[str, bytes]:
    """The configured ring ``{key_id: key}``; the first entry is the active key."""
    ring: dict[str, bytes] = settings.XINQIAO_FIELD_KEYS
    return ring


def active_key_id() -> str:
    """Id of the key new values are encrypted under."""
    return next(iter(key_ring()))


def encrypt(plaintext: str, aad: str) -> str:
    """Encrypt ``plaintext`` under the active key, bound to ``aad`` (the column label)."""
    ring = key_ring()
    key_id = next(iter(ring))
    nonce = os.urandom(NONCE_BYTES)
    sealed = _ciphers(tuple(ring.items()))[key_id].encrypt(nonce, plaintext.encode("utf-8"), aad.encode())
    return f"{VERSION}.{key_id}.{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"


def decrypt(token: str, aad: str) -> str:
    """Decrypt a stored value; raises ``DecryptionError`` if it is not authentic."""
    try:
        version, key_id, payload = token.split(".", 2)
    except ValueError:
        raise DecryptionError("not an encrypted value") from None
    if version != VERSION:
        raise DecryptionError(f"unknown format {version!r}")
    ring = key_ring()
    if key_id not in ring:
        raise DecryptionError(f"key {key_id!r} is not in XINQIAO_FIELD_KEYS")
    raw = base64.urlsafe_b64decode(payload.encode("ascii"))
    try:
        plain = _ciphers(tuple(ring.items()))[key_id].decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode())
    except InvalidTag:
        raise DecryptionError("authentication failed") from None
    return plain.decode("utf-8")


def key_id_of(token: str) -> str:
    """The key id a stored value was encrypted under."""
    return token.split(".", 2)[1]


def blind_index(purpose: str, value: str) -> str:
    """HMAC-SHA256 of a normalised value, hex; ``purpose`` separates index families."""
    key: bytes = settings.XINQIAO_BLIND_INDEX_KEY
    return hmac.new(key, f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()
