"""The audit log: append-only and hash-chained.

Each event stores the SHA-256 of its own canonical content together with the previous event's
hash, so changing or deleting any event breaks the chain at that point (``xinqiao audit verify``
names the first broken link). ``AuditChainHead`` holds the last hash and the count, so a deletion
at the tail is detected too. On PostgreSQL a trigger also refuses UPDATE and DELETE on the table;
the ORM refuses both everywhere. Audit rows never hold personal data in clear: they name the
record (type and id), the fields touched, and the stated purpose.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditAction(models.TextChoices):
    """What happened."""

    CREATE = "create", _("create")
    CHANGE = "change", _("change")
    DELETE = "delete", _("delete")
    VIEW = "view", _("view record")
    LIST = "list", _("view list")
    EXPORT = "export", _("export")
    UNMASK = "unmask", _("unmask")
    MERGE = "merge", _("merge")
    LOGIN = "login", _("log in")
    LOGOUT = "logout", _("log out")
    LOGIN_FAILED = "login_failed", _("failed log-in")
    LOCKOUT = "lockout", _("account locked")
    TWO_FACTOR = "two_factor", _("two-factor change")
    KEY_ROTATION = "key_rotation", _("key rotation")


class AuditAppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    """Bulk ``update()``/``delete()`` bypass ``Model.save``/``delete``: refuse them too."""

    def update(self, **kwargs: Any) -> int:
        raise AuditAppendOnlyError("audit events cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditAppendOnlyError("audit events cannot be deleted")


class AuditEvent(models.Model):
    """One audited act: who, when, from where, what, why."""

    occurred_at = models.DateTimeField(_("time"), db_index=True)
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True, db_index=True)
    actor_username = models.CharField(_("actor"), max_length=150, blank=True)
    actor_roles = models.CharField(_("actor roles"), max_length=255, blank=True)
    remote_addr = models.CharField(_("address"), max_length=64, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=AuditAction.choices, db_index=True)
    object_type = models.CharField(_("record type"), max_length=64, blank=True, db_index=True)
    object_id = models.CharField(_("record id"), max_length=64, blank=True, db_index=True)
    region_code = models.CharField(_("region"), max_length=9, blank=True, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=500, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering: ClassVar = ["-id"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    # Fields that go into the hash, in order. Adding a field means a new chain version.
    HASHED_FIELDS: ClassVar[tuple[str, ...]] = (
        "occurred_at", "actor_id", "actor_username", "actor_roles", "remote_addr", "user_agent",
        "action", "object_type", "object_id", "region_code", "purpose", "detail", "prev_hash",
    )

    def canonical(self) -> bytes:
        """The canonical byte string that is hashed (stable across SQLite and PostgreSQL)."""
        content: dict[str, Any] = {}
        for name in self.HASHED_FIELDS:
            value = getattr(self, name)
            if name == "occurred_at":
                value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value else None
            content[name] = value
        return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()

    def compute_hash(self) -> str:
        """SHA-256 over the canonical content (which includes ``prev_hash``)."""
        return hashlib.sha256(self.canonical()).hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AuditAppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditAppendOnlyError("audit events cannot be deleted")


class AuditChainHead(models.Model):
    """The single row holding the chain's last hash and length; locked while appending."""

    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    length = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("audit chain head")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.length} events, last {self.last_hash[:12]}"
