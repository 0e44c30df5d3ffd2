"""The import's bulk insert: values stored as the model fields would store them (on both databases)."""

from __future__ import annotations

from datetime import date

from django.db import connection

from xinqiao.core import crypto
from xinqiao.core.models import InRegion, Person, Region
from xinqiao.paperwork.bulk import Encryptor, insert_rows


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
