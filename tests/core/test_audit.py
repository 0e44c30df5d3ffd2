"""Tests for the audit log: hash chain (xinqiao.core.audit), append-only guards, ``audit verify``."""

from __future__ import annotations

import itertools
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.urls import reverse

from tests.factories import PersonFactory
from xinqiao.core import audit
from xinqiao.core.models import AuditAction, AuditChainHead, AuditEvent
from xinqiao.core.models.audit import GENESIS_HASH, AuditAppendOnlyError
from xinqiao.core.request_context import RequestInfo, reset_request_info, set_request_info

TABLE = AuditEvent._meta.db_table
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _sql(statement: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _bypass_trigger() -> None:
    """What an attacker with DDL rights would do first (rolled back with the test transaction)."""
    if connection.vendor == "postgresql":
        _sql(f"ALTER TABLE {TABLE} DISABLE TRIGGER core_auditevent_append_only", [])
    elif connection.vendor == "sqlite":
        _sql("DROP TRIGGER core_auditevent_no_update", [])


def _events(n: int) -> list[AuditEvent]:
    return [audit.record(AuditAction.VIEW, object_type="core.person", object_id=i, purpose=f"check {i}")
            for i in range(n)]


def _verify_command() -> tuple[int, str]:
    out = StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify", stdout=out)
    return exc.value.code, out.getvalue()


# --------------------------------------------------------------------------- the chain


def test_record_links_each_event_to_the_previous_hash(db) -> None:
    start = AuditChainHead.objects.filter(pk=1).first()
    start_hash, start_len = (start.last_hash, start.length) if start else (GENESIS_HASH, 0)
    events = _events(4)
    assert events[0].prev_hash == start_hash
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in events}) == 4
    for e in events:
        stored = AuditEvent.objects.get(pk=e.pk)
        assert stored.hash == e.hash == stored.compute_hash()
    head = AuditChainHead.objects.get(pk=1)
    assert head.last_hash == events[-1].hash
    assert head.length == start_len + 4


def test_record_fills_object_fields_from_obj(towns) -> None:
    person = PersonFactory(region=towns[1])
    event = audit.record(AuditAction.VIEW, obj=person)
    assert (event.object_type, event.object_id, event.region_code) == ("core.person", str(person.pk), towns[1].code)


def test_record_takes_actor_and_origin_from_the_request_context(cast) -> None:
    user = cast["police_a"]
    token = set_request_info(RequestInfo(user=user, remote_addr="10.1.2.3", user_agent="x" * 400))
    try:
        event = audit.record(AuditAction.LIST)
    finally:
        reset_request_info(token)
    assert event.actor_id == user.pk
    assert event.actor_username == "police_a"
    assert event.actor_roles == "police"
    assert event.remote_addr == "10.1.2.3"
    assert event.user_agent == "x" * 255
    outside = audit.record(AuditAction.LIST)
    assert (outside.actor_id, outside.remote_addr, outside.user_agent) == (None, "", "")


def test_event_rolls_back_with_the_audited_write(db) -> None:
    count = AuditEvent.objects.count()
    head = AuditChainHead.objects.filter(pk=1).values_list("length", flat=True).first()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(AuditAction.EXPORT)
        raise RuntimeError("the write failed")
    assert AuditEvent.objects.count() == count
    assert AuditChainHead.objects.filter(pk=1).values_list("length", flat=True).first() == head
    assert audit.verify_chain().ok


def test_hash_covers_every_hashed_field(db) -> None:
    event = _events(1)[0]
    original = event.compute_hash()
    for name, value in (("purpose", "other"), ("object_id", "999"), ("detail", {"x": 1}), ("actor_id", 7),
                        ("remote_addr", "1.1.1.1"), ("prev_hash", "f" * 64), ("action", "export")):
        copy = AuditEvent.objects.get(pk=event.pk)
        setattr(copy, name, value)
        assert copy.compute_hash() != original, name


def test_verify_chain_ok_on_intact_chain(db) -> None:
    events = _events(5)
    report = audit.verify_chain(chunk_size=2)
    assert report.ok
    assert report.broken_id is None
    assert report.checked == AuditChainHead.objects.get(pk=1).length >= len(events)


def test_awkward_content_hashes_the_same_in_sql_and_in_python(db) -> None:
    # On PostgreSQL the hash is computed in SQL over the canonical bytes with the previous hash
    # spliced in: content that could confuse the splice (quotes, a nested "prev_hash" key, the
    # marker's alphabet, non-ASCII, line separators) must still give AuditEvent.compute_hash.
    _events(1)
    awkward = [
        {"purpose": 'say "prev_hash":"' + "0" * 64 + '"', "detail": {"prev_hash": "f" * 64, "ids": ["1", "2"]}},
        {"purpose": "张三丰 · 心桥 \u2028 😀", "detail": {"名字": "李四", "n": 3, "nested": {"a": [None, True]}}},
        {"purpose": "a" * 500, "object_id": "x" * 64, "detail": {}},
    ]
    events = [audit.record(AuditAction.VIEW, object_type="core.person", **kwargs) for kwargs in awkward]
    for e in events:
        stored = AuditEvent.objects.get(pk=e.pk)
        assert stored.prev_hash == e.prev_hash
        assert stored.hash == e.hash == stored.compute_hash()
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert AuditChainHead.objects.get(pk=1).last_hash == events[-1].hash
    assert audit.verify_chain().ok


def test_first_event_creates_the_chain_head(db) -> None:
    AuditChainHead.objects.filter(pk=1).delete()
    count = AuditEvent.objects.count()
    first = audit.record(AuditAction.VIEW, object_type="core.person", object_id=1)
    second = audit.record(AuditAction.VIEW, object_type="core.person", object_id=2)
    head = AuditChainHead.objects.get(pk=1)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert (head.last_hash, head.length) == (second.hash, 2)
    assert AuditEvent.objects.count() == count + 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement append is PostgreSQL's")
def test_postgresql_appends_in_one_statement(db) -> None:
    _events(1)  # the head exists
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        event = audit.record(AuditAction.LIST, object_type="patients.patient", detail={"ids": ["1"], "count": 1})
    assert len(ctx.captured_queries) == 1
    assert "FOR UPDATE" in ctx.captured_queries[0]["sql"]
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
    assert audit.verify_chain().ok


# --------------------------------------------------------------------------- append-only


def test_database_refuses_update(db) -> None:
    event = _events(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql(f"UPDATE {TABLE} SET purpose = %s WHERE id = %s", ["tampered", event.pk])  # noqa: S608
    assert AuditEvent.objects.get(pk=event.pk).purpose == "check 0"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps DELETE possible for the test flush")
def test_postgresql_refuses_delete(db) -> None:
    event = _events(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])  # noqa: S608
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_orm_refuses_save_of_an_existing_event(db) -> None:
    event = _events(1)[0]
    event.purpose = "tampered"
    with pytest.raises(AuditAppendOnlyError):
        event.save()
    with pytest.raises(AuditAppendOnlyError):
        event.save(update_fields=["purpose"])
    assert AuditEvent.objects.get(pk=event.pk).purpose == "check 0"


def test_orm_refuses_delete(db) -> None:
    event = _events(1)[0]
    with pytest.raises(AuditAppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_orm_queryset_update_and_delete_are_refused(db) -> None:
    event = _events(1)[0]
    with pytest.raises(AuditAppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(purpose="tampered")
    with pytest.raises(AuditAppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).purpose == "check 0"
    assert audit.verify_chain().ok


# --------------------------------------------------------------------------- tamper detection


def test_changed_event_is_named(db) -> None:
    events = _events(5)
    _bypass_trigger()
    _sql(f"UPDATE {TABLE} SET purpose = %s WHERE id = %s", ["nothing to see", events[2].pk])  # noqa: S608
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_id == events[2].pk
    assert "changed" in report.reason


def test_changed_event_with_recomputed_hash_breaks_the_next_link(db) -> None:
    events = _events(5)
    forged = AuditEvent.objects.get(pk=events[2].pk)
    forged.purpose = "nothing to see"
    _bypass_trigger()
    _sql(f"UPDATE {TABLE} SET purpose = %s, hash = %s WHERE id = %s",  # noqa: S608
         [forged.purpose, forged.compute_hash(), forged.pk])
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_id == events[3].pk


def test_deleted_middle_event_breaks_the_chain_at_the_next(db) -> None:
    events = _events(5)
    _bypass_trigger()
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [events[2].pk])  # noqa: S608
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_id == events[3].pk
    assert "removed" in report.reason


def test_deleted_last_event_is_reported_as_tail_removal(db) -> None:
    events = _events(5)
    _bypass_trigger()
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [events[-1].pk])  # noqa: S608
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_id is None
    assert report.checked == AuditChainHead.objects.get(pk=1).length - 1
    assert "end" in report.reason


def test_audit_verify_command_exits_0_when_intact(db) -> None:
    _events(3)
    code, out = _verify_command()
    assert code == 0
    assert f"audit chain intact: {AuditChainHead.objects.get(pk=1).length} events verified" in out


def test_audit_verify_command_exits_1_and_names_the_event(db) -> None:
    events = _events(4)
    _bypass_trigger()
    _sql(f"UPDATE {TABLE} SET object_id = %s WHERE id = %s", ["12345", events[1].pk])  # noqa: S608
    code, out = _verify_command()
    assert code == 1
    assert f"BROKEN at event #{events[1].pk}" in out


def test_audit_verify_command_reports_tail_removal(db) -> None:
    events = _events(3)
    _bypass_trigger()
    _sql(f"DELETE FROM {TABLE} WHERE id = %s", [events[-1].pk])  # noqa: S608
    code, out = _verify_command()
    assert code == 1
    assert "BROKEN at the end of the chain" in out


def test_audit_verify_command_json(db) -> None:
    import json

    events = _events(2)
    _bypass_trigger()
    _sql(f"UPDATE {TABLE} SET purpose = %s WHERE id = %s", ["x", events[0].pk])  # noqa: S608
    out = StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("audit", "verify", "--json", stdout=out)
    assert exc.value.code == 1
    report = json.loads(out.getvalue())
    assert report["ok"] is False
    assert report["broken_id"] == events[0].pk


# --------------------------------------------------------------------------- requests


def test_person_view_is_audited_with_actor_and_origin(cast, towns, client) -> None:
    person = PersonFactory(region=towns[0])
    doctor = cast["community_doctor_a"]
    client.force_login(doctor, backend=MODEL_BACKEND)
    with override_settings(XINQIAO_2FA_FORCED=False):
        response = client.get(reverse("core:person_detail", args=[person.pk]), HTTP_USER_AGENT="pytest-browser/1.0")
    assert response.status_code == 200
    event = AuditEvent.objects.filter(action=AuditAction.VIEW).latest("id")
    assert event.actor_id == doctor.pk
    assert event.actor_username == "community_doctor_a"
    assert event.actor_roles == "community_doctor"
    assert event.remote_addr == "127.0.0.1"
    assert event.user_agent == "pytest-browser/1.0"
    assert (event.object_type, event.object_id, event.region_code) == ("core.person", str(person.pk), towns[0].code)
    assert audit.verify_chain().ok


def test_out_of_scope_view_is_404_and_not_recorded_as_a_view(cast, towns, client) -> None:
    person = PersonFactory(region=towns[1])
    client.force_login(cast["community_doctor_a"], backend=MODEL_BACKEND)
    with override_settings(XINQIAO_2FA_FORCED=False):
        response = client.get(reverse("core:person_detail", args=[person.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(person.pk)).exists()


def test_forced_two_factor_blocks_the_view_before_it_is_recorded(cast, towns, client) -> None:
    person = PersonFactory(region=towns[0])
    client.force_login(cast["community_doctor_a"], backend=MODEL_BACKEND)
    with override_settings(XINQIAO_2FA_FORCED=True):
        response = client.get(reverse("core:person_detail", args=[person.pk]))
    assert response.status_code == 302
    assert response.url == reverse("core:two_factor")
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW, object_id=str(person.pk)).exists()
