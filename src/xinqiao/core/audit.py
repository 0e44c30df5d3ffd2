"""Writing and verifying the audit log.

``record()`` is the only way events are written. It takes the actor and the request's address
from the current request context (``middleware.RequestContextMiddleware``) unless given, locks
the chain head, links the new event to the previous hash and stores it, all inside the caller's
transaction: if the audited write rolls back, so does its audit event. On PostgreSQL all of that is
one statement (``_append_in_one_statement``); elsewhere the ORM does it in a transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from xinqiao.core.models.audit import GENESIS_HASH, AuditAction, AuditChainHead, AuditEvent
from xinqiao.core.request_context import current_request_info


def record(
    action: AuditAction | str,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    region_code: str = "",
    purpose: str = "",
    detail: dict[str, Any] | None = None,
    actor: Any = None,
) -> AuditEvent:
    """Append one event to the chain and return it."""
    info = current_request_info()
    if actor is None:
        actor = info.user
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        region_code = region_code or getattr(obj, "township_code", "") or getattr(obj, "region_id", "") or ""
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor_id=actor_id,
        actor_username=actor.get_username() if actor_id else "",
        actor_roles=",".join(sorted(getattr(actor, "role_codes", ()))) if actor_id else "",
        remote_addr=info.remote_addr,
        user_agent=info.user_agent[:255],
        action=str(action),
        object_type=object_type,
        object_id=str(object_id),
        region_code=region_code,
        purpose=purpose[:500],
        detail=detail or {},
    )
    if connection.vendor == "postgresql" and _append_in_one_statement(event):
        return event
    with transaction.atomic():
        head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event.prev_hash = head.last_hash
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        head.last_hash = event.hash
        head.length += 1
        head.save(update_fields=["last_hash", "length"])
    return event


#: The event's columns written by ``_append_in_one_statement``, in order (``prev_hash`` and ``hash``
#: come from the chain head).
_COLUMNS: tuple[str, ...] = (
    "occurred_at", "actor_id", "actor_username", "actor_roles", "remote_addr", "user_agent", "action",
    "object_type", "object_id", "region_code", "purpose", "detail",
)


def _field(name: str) -> models.Field[Any, Any]:
    field = AuditEvent._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


@cache
def _append_sql() -> str:
    """The statement of ``_append_in_one_statement`` (identifiers from the models' metadata only)."""
    quote = connection.ops.quote_name
    event, head = quote(AuditEvent._meta.db_table), quote(AuditChainHead._meta.db_table)
    columns = ", ".join(quote(_field(c).column) for c in _COLUMNS)
    values = ", ".join(["%s"] * len(_COLUMNS))
    # No value is interpolated (every value is a parameter): S608 does not apply.
    return (
        f"WITH old AS (SELECT id, last_hash FROM {head} WHERE id = 1 FOR UPDATE), "  # noqa: S608
        f"new AS (UPDATE {head} h "
        "SET last_hash = encode(sha256(%s::bytea || convert_to(old.last_hash, 'UTF8') || %s::bytea), 'hex'), "
        "length = h.length + 1 FROM old WHERE h.id = old.id "
        "RETURNING old.last_hash AS prev_hash, h.last_hash AS hash) "
        f"INSERT INTO {event} ({columns}, prev_hash, hash) "
        f"SELECT {values}, new.prev_hash, new.hash FROM new RETURNING id, prev_hash, hash"
    )


def _append_in_one_statement(event: AuditEvent) -> bool:
    """PostgreSQL: append ``event`` to the chain in ONE statement; ``False`` when there is no head yet.

    The statement locks the head (``FOR UPDATE``, held to the end of the caller's transaction as
    before), hashes in SQL the same canonical bytes ``AuditEvent.compute_hash`` hashes (they are the
    event's canonical JSON with the previous hash spliced in where ``prev_hash`` goes: ``sha256``
    of prefix ‖ previous hash ‖ suffix), moves the head and inserts the event. One round trip
    instead of five (BEGIN, SELECT … FOR UPDATE, INSERT, UPDATE, COMMIT) and no ORM compiling.
    """
    marker = secrets.token_hex(32)  # stands for the previous hash; 64 hex characters like it
    event.prev_hash = marker
    canonical = event.canonical()
    before, found, after = canonical.partition(marker.encode())
    if not found or marker.encode() in after:
        return False
    params = [before, after, *(_field(c).get_db_prep_save(getattr(event, _field(c).attname), connection)
                               for c in _COLUMNS)]
    with connection.cursor() as cursor:
        cursor.execute(_append_sql(), params)
        row = cursor.fetchone()
    if row is None:  # no chain head yet: the first event goes the ORM way, which creates it
        event.prev_hash = ""
        return False
    event.pk, event.prev_hash, event.hash = row
    event._state.adding = False
    event._state.db = connection.alias
    if event.compute_hash() != event.hash:  # cannot happen unless the canonical form changed
        raise RuntimeError("audit: the hash computed in SQL differs from AuditEvent.compute_hash")
    return True


def record_many(action: AuditAction | str, objs: Iterable[models.Model], **kwargs: Any) -> AuditEvent:
    """One event for a set of records (a list page, an export): ids go in ``detail``."""
    objs = list(objs)
    detail = dict(kwargs.pop("detail", None) or {})
    detail.setdefault("ids", [str(o.pk) for o in objs][:1000])
    detail.setdefault("count", len(objs))
    object_type = objs[0]._meta.label_lower if objs else kwargs.pop("object_type", "")
    kwargs.pop("object_type", None)
    return record(action, object_type=object_type, detail=detail, **kwargs)


@dataclass(frozen=True)
class ChainReport:
    """Result of ``verify_chain``: ok, how many events were checked, the first broken link."""

    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify_chain(chunk_size: int = 5000) -> ChainReport:
    """Walk the log in order, recompute every hash and check each link and the head."""
    # Read the head first: events appended while we walk lie beyond it and are left for next time.
    head = AuditChainHead.objects.filter(pk=1).first()
    expected_hash, expected_len = (head.last_hash, head.length) if head else (GENESIS_HASH, 0)
    previous = GENESIS_HASH
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
        if checked == expected_len and previous == expected_hash:
            break  # appended after the snapshot of the head
        if event.prev_hash != previous:
            return ChainReport(False, checked, event.pk, "previous-hash link does not match (an event before it was removed or changed)")
        if event.compute_hash() != event.hash:
            return ChainReport(False, checked, event.pk, "content does not match its hash (the event was changed)")
        previous = event.hash
        checked += 1
    if previous != expected_hash or checked != expected_len:
        return ChainReport(False, checked, None, f"chain ends after {checked} events but the head records {expected_len} (events at the end were removed)")
    return ChainReport(True, checked)
