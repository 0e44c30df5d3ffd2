"""Tests for xinqiao.core.keyrotation and the ``rotate_keys`` command (``xinqiao rotate-keys``)."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from tests.factories import PersonFactory
from xinqiao.core import crypto, services
from xinqiao.core.keyrotation import encrypted_columns, rotate
from xinqiao.core.models import AuditAction, AuditEvent, Person

OLD = os.urandom(32)
NEW = os.urandom(32)
ENCRYPTED = ("name", "id_number", "phone", "address")


def _raw(person: Person) -> dict[str, str]:
    columns = ", ".join(ENCRYPTED)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {Person._meta.db_table} WHERE id = %s", [person.pk])  # noqa: S608
        return dict(zip(ENCRYPTED, cursor.fetchone(), strict=True))


def _plain(person: Person) -> dict[str, str]:
    return {f: getattr(person, f) for f in ENCRYPTED}


@pytest.fixture
def old_persons(towns):  # type: ignore[no-untyped-def]
    with override_settings(XINQIAO_FIELD_KEYS={"old": OLD}):
        persons = [PersonFactory(region=towns[i % 2]) for i in range(5)]
        persons.append(PersonFactory(region=towns[0], phone="", address=""))  # empty columns stay empty
    for p in persons:
        for field, raw in _raw(p).items():
            assert raw == "" or raw.startswith("v1.old."), field
    return persons


def test_person_is_the_encrypted_model() -> None:
    found = dict(encrypted_columns())
    assert sorted(found[Person]) == sorted(ENCRYPTED)


def test_rotation_reencrypts_under_the_new_key(old_persons, cast) -> None:
    before = {p.pk: (_plain(p), p.id_number_index) for p in old_persons}
    with override_settings(XINQIAO_FIELD_KEYS={"new": NEW, "old": OLD}):
        done = rotate(batch_size=2)
        assert done["core.Person"] == len(old_persons)
        for p in old_persons:
            raw = _raw(p)
            for field in ENCRYPTED:
                if before[p.pk][0][field]:
                    assert raw[field].startswith("v1.new."), field
                else:
                    assert raw[field] == ""
            fresh = Person.objects.get(pk=p.pk)
            assert _plain(fresh) == before[p.pk][0]
            assert fresh.id_number_index == before[p.pk][1]
            # Exact look-up through the blind index still finds the person.
            found = services.find_by_id_number(cast["regulator"], "resident_id", p.id_number)
            assert [f.pk for f in found] == [p.pk]
        # A second rotation has nothing left to do.
        assert rotate()["core.Person"] == 0
    # With the old key dropped from the ring, every row still decrypts.
    with override_settings(XINQIAO_FIELD_KEYS={"new": NEW}):
        for p in old_persons:
            assert _plain(Person.objects.get(pk=p.pk)) == before[p.pk][0]
        assert rotate()["core.Person"] == 0


def test_without_rotation_dropping_the_old_key_breaks_reads(old_persons) -> None:
    with override_settings(XINQIAO_FIELD_KEYS={"new": NEW}), pytest.raises(crypto.DecryptionError, match="'old'"):
        Person.objects.get(pk=old_persons[0].pk)


def test_rows_under_a_key_not_in_the_ring_fail_loudly(old_persons) -> None:
    with override_settings(XINQIAO_FIELD_KEYS={"new": NEW}), pytest.raises(crypto.DecryptionError, match="'old'"):
        rotate()
    # Nothing was half-rotated: the rows are still under the old key and readable with it.
    with override_settings(XINQIAO_FIELD_KEYS={"old": OLD}):
        for p in old_persons:
            assert _plain(Person.objects.get(pk=p.pk)) == _plain(p)
            assert _raw(p)["name"].startswith("v1.old.")


def test_rotation_only_touches_stale_rows(old_persons, towns) -> None:
    with override_settings(XINQIAO_FIELD_KEYS={"new": NEW, "old": OLD}):
        fresh = PersonFactory(region=towns[0])
        fresh_raw = _raw(fresh)
        assert fresh_raw["name"].startswith("v1.new.")
        assert rotate()["core.Person"] == len(old_persons)
        assert _raw(fresh) == fresh_raw  # not rewritten


def test_rotation_is_audited(old_persons) -> None:
    with override_settings(XINQIAO_FIELD_KEYS={"new": NEW, "old": OLD}):
        rotate()
    event = AuditEvent.objects.filter(action=AuditAction.KEY_ROTATION).latest("id")
    assert event.detail["active_key"] == "new"
    assert event.detail["rows"]["core.Person"] == len(old_persons)
    assert sum(event.detail["rows"].values()) == len(old_persons)  # no other model had rows to rotate


def test_rotate_keys_command(old_persons) -> None:
    out = StringIO()
    with override_settings(XINQIAO_FIELD_KEYS={"new": NEW, "old": OLD}):
        call_command("rotate_keys", "--batch-size", "4", stdout=out)
        assert f"active key new: {len(old_persons)} rows re-encrypted" in out.getvalue()
        assert f"core.Person={len(old_persons)}" in out.getvalue()
        for p in old_persons:
            assert _raw(p)["name"].startswith("v1.new.")
        out = StringIO()
        call_command("rotate_keys", stdout=out)
        assert "active key new: 0 rows re-encrypted" in out.getvalue()


def test_every_app_with_encrypted_text_is_rotated() -> None:
    """Rotation is generic: the domain apps' encrypted columns are found without registering them."""
    from xinqiao.caregroups.models import GroupMember
    from xinqiao.followups.models import FollowUpParticipant
    from xinqiao.patients.models import PersonalSupplement

    found = dict(encrypted_columns())
    for model in (FollowUpParticipant, PersonalSupplement, GroupMember):
        assert found.get(model), model
