"""The import's bulk writes (``paperwork.bulk``): values stored as the model fields would store them,
on both databases, and the job stream's order, transaction and failure behaviour."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from xinqiao.core import crypto
from xinqiao.core.models import InRegion, Organisation, OrgType, Person, Region
from xinqiao.paperwork.bulk import (
    MISSING,
    NULL,
    Encryptor,
    Same,
    SyncStream,
    allocate_ids,
    job_stream,
    write_columns,
    write_rows,
)
from xinqiao.patients.models import Patient, StatusChange


def place(town: Region) -> dict[str, str]:
    return {"region_id": town.code, **InRegion.region_columns(town.code)}


def test_encryptor_writes_what_core_crypto_reads() -> None:
    token = Encryptor("core.person.name")("王测试")
    assert token.startswith(f"v1.{crypto.active_key_id()}.")
    assert crypto.decrypt(token, "core.person.name") == "王测试"
    assert Encryptor("core.person.name")("王测试") != token  # a fresh nonce each time


def test_a_column_is_encrypted_in_one_pass_with_fresh_nonces() -> None:
    texts = Encryptor("core.person.phone").many(["13800000000", MISSING, None, "", "13800000000"], "DEFAULT")
    assert texts[1:4] == ["DEFAULT", NULL, ""]
    assert texts[0] != texts[4]
    assert {crypto.decrypt(t, "core.person.phone") for t in (texts[0], texts[4])} == {"13800000000"}
    with pytest.raises(crypto.DecryptionError):  # bound to its column: another column's AAD fails
        crypto.decrypt(texts[0], "core.person.name")


def test_write_rows_round_trip(towns: list[Region]) -> None:
    town = towns[0]
    with transaction.atomic(), job_stream() as stream:
        ids = allocate_ids(stream, Person, 2).result()
        given = write_rows(Person, [
            {"name": "批量甲", "id_number": "", "id_number_index": "", "phone": "13800000000", "sex": "F",
             "birth_date": date(1990, 1, 2), **place(town)},
            {"name": "批量乙", **place(town)},
        ], stream, ids=ids)
    assert given is not None and (ids is None or given == ids)
    first, second = Person.objects.filter(pk__in=given).order_by("id")
    assert [first.pk, second.pk] == sorted(given)
    assert (first.name, first.phone, first.birth_date, first.township_code) == (
        "批量甲", "13800000000", date(1990, 1, 2), town.code)
    assert (second.name, second.phone, second.sex, second.id_type) == ("批量乙", "", "U", "resident_id")
    assert first.created_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone, address FROM core_person WHERE id = %s", [second.pk])
        name, phone, address = cursor.fetchone()
    assert name.startswith("v1.") and (phone, address) == ("", "")


def test_columns_with_copy_control_characters_and_database_numbered_rows(towns: list[Region]) -> None:
    """Tabs, line breaks and backslashes in a cell are data, not COPY syntax; ``Same`` fills a column;
    rows written without ids are numbered by the database."""
    town = towns[0]
    clinic = Organisation.objects.create(name="批量卫生院", org_type=OrgType.COMMUNITY_HEALTH_CENTRE, region=town)
    columns = {k: Same(v) for k, v in place(town).items()}
    with transaction.atomic(), job_stream() as stream:
        person_ids = write_columns(Person, 2, {"name": ["制表\t换行\n反斜\\杠", "普通"], "address": ["一\r二", MISSING],
                                               **columns}, stream, ids=allocate_ids(stream, Person, 2).result())
        assert person_ids is not None
        patient_ids = write_columns(Patient, 2, {
            "person_id": person_ids, "register_number": ["44010620260000001", "44010620260000002"],
            "registered_on": Same(date(2026, 1, 2)), "diagnosis": Same("F20"), "icd10_code": Same("F20.0"),
            "managing_organisation_id": Same(clinic.pk), **columns}, stream,
            ids=allocate_ids(stream, Patient, 2).result())
        assert patient_ids is not None
        numbered = write_columns(StatusChange, 2, {
            "patient_id": patient_ids, "from_status": Same(""), "to_status": Same("managed"),
            "changed_on": Same(date(2026, 1, 2)), "note": ["a\tb\\n", ""], **columns}, stream)
    assert numbered is None or len(numbered) == 2  # SQLite returns the ids bulk_create gave
    person = Person.objects.get(pk=person_ids[0])
    assert (person.name, person.address) == ("制表\t换行\n反斜\\杠", "一\r二")
    assert Person.objects.get(pk=person_ids[1]).address == ""
    assert sorted(StatusChange.objects.values_list("note", flat=True)) == ["", "a\tb\\n"]
    assert set(Patient.objects.values_list("township_code", flat=True)) == {town.code}


def test_a_job_runs_after_the_writes_before_it_and_sees_them(towns: list[Region]) -> None:
    def count(cursor: Any) -> int:
        cursor.execute("SELECT count(*) FROM core_person")
        return int(cursor.fetchone()[0])

    with transaction.atomic(), job_stream() as stream:
        write_rows(Person, [{"name": f"流{i}", **place(towns[0])} for i in range(5)], stream,
                   ids=allocate_ids(stream, Person, 5).result())
        assert stream.submit(count).result() == 5
    assert Person.objects.count() == 5


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY writer thread is PostgreSQL only")
def test_a_failure_in_the_writer_thread_fails_later_jobs_is_raised_and_rolls_back(towns: list[Region]) -> None:
    later: list[Any] = []
    with pytest.raises(IntegrityError), transaction.atomic(), job_stream() as stream:
        assert not isinstance(stream, SyncStream)
        write_rows(Person, [{"name": "好", **place(towns[0])}], stream, ids=allocate_ids(stream, Person, 1).result())
        write_rows(Person, [{"name": "坏", **place(towns[0]), "region_id": "999999999"}],  # no such region
                   stream, ids=allocate_ids(stream, Person, 1).result())
        later.append(stream.submit(lambda cursor: 1))
        later[0].result()
    assert later[0].exception() is not None
    assert not Person.objects.exists()
