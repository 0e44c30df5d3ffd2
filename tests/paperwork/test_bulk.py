"""The import's bulk insert: values stored as the model fields would store them (on both databases)."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction

from xinqiao.core import crypto
from xinqiao.core.models import InRegion, Person, Region
from xinqiao.paperwork.bulk import Encryptor, copy_stream, insert_rows


def test_encryptor_writes_what_core_crypto_reads() -> None:
    token = Encryptor("core.person.name")("王测试")
    assert token.startswith(f"v1.{crypto.active_key_id()}.")
    assert crypto.decrypt(token, "core.person.name") == "王测试"
    assert Encryptor("core.person.name")("王测试") != token  # a fresh nonce each time


def test_insert_rows_round_trip(towns: list[Region]) -> None:
    town = towns[0]
    ids = insert_rows(Person, [
        {"name": "批量甲", "id_number": "", "id_number_index": "", "phone": "13800000000", "sex": "F",
         "birth_date": date(1990, 1, 2), "region_id": town.code, **InRegion.region_columns(town.code)},
        {"name": "批量乙", "region_id": town.code, **InRegion.region_columns(town.code)},
    ])
    first, second = Person.objects.filter(pk__in=ids).order_by("id")
    assert [first.pk, second.pk] == ids
    assert (first.name, first.phone, first.birth_date, first.township_code) == (
        "批量甲", "13800000000", date(1990, 1, 2), town.code)
    assert (second.name, second.phone, second.sex, second.id_type) == ("批量乙", "", "U", "resident_id")
    assert first.created_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone, address FROM core_person WHERE id = %s", [second.pk])
        name, phone, address = cursor.fetchone()
    assert name.startswith("v1.") and (phone, address) == ("", "")


def test_text_with_copy_control_characters_round_trips(towns: list[Region]) -> None:
    """Tabs, line breaks and backslashes in a cell are data, not COPY syntax."""
    from xinqiao.core.models import Organisation, OrgType
    from xinqiao.patients.models import Patient, StatusChange

    town = towns[0]
    clinic = Organisation.objects.create(name="批量卫生院", org_type=OrgType.COMMUNITY_HEALTH_CENTRE, region=town)
    place = {"region_id": town.code, **InRegion.region_columns(town.code)}
    [person_id] = insert_rows(Person, [{"name": "制表\t换行\n反斜\\杠", "address": "一\r二", **place}])
    person = Person.objects.get(pk=person_id)
    assert (person.name, person.address) == ("制表\t换行\n反斜\\杠", "一\r二")
    [patient_id] = insert_rows(Patient, [{"person_id": person_id, "register_number": "44010620260000001",
                                          "registered_on": date(2026, 1, 2), "diagnosis": "F20",
                                          "icd10_code": "F20.0", "managing_organisation_id": clinic.pk,
                                          **place}])
    [change_id] = insert_rows(StatusChange, [{"patient_id": patient_id, "from_status": "", "to_status": "managed",
                                              "changed_on": date(2026, 1, 2), "note": "a\tb\\n", **place}])
    assert StatusChange.objects.get(pk=change_id).note == "a\tb\\n"


def test_a_stream_writes_in_the_callers_transaction(towns: list[Region]) -> None:
    town = towns[0]
    place = {"region_id": town.code, **InRegion.region_columns(town.code)}
    with transaction.atomic(), copy_stream() as stream:
        ids = insert_rows(Person, [{"name": f"流{i}", **place} for i in range(5)], batch_size=2, stream=stream)
    assert sorted(Person.objects.filter(pk__in=ids).values_list("pk", flat=True)) == sorted(ids)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY writer thread is PostgreSQL only")
def test_a_failure_in_the_writer_thread_is_raised_and_rolls_back(towns: list[Region]) -> None:
    town = towns[0]
    place = {"region_id": town.code, **InRegion.region_columns(town.code)}
    with pytest.raises(IntegrityError), transaction.atomic(), copy_stream() as stream:
        insert_rows(Person, [{"name": "好", **place}], stream=stream)
        insert_rows(Person, [{"name": "坏", **place, "region_id": "999999999"}], stream=stream)  # no such region
    assert not Person.objects.exists()
