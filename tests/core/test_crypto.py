"""Tests for xinqiao.core.crypto (AES-256-GCM field encryption, blind indexes) and EncryptedTextField."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import PersonFactory
from xinqiao.core import crypto
from xinqiao.core.models import Person

AAD = "core.person.name"


def _key() -> bytes:
    return os.urandom(32)


def _raw_column(person: Person, field: str) -> str:
    column = Person._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {Person._meta.db_table} WHERE id = %s", [person.pk])  # noqa: S608
        return cursor.fetchone()[0]


# --------------------------------------------------------------------------- encrypt / decrypt


@given(st.text() | st.text(alphabet="张王李赵心桥广州市天河区五山路一号𠀀", max_size=50) | st.just(""))
def test_round_trip(plain: str) -> None:
    token = crypto.encrypt(plain, AAD)
    assert crypto.decrypt(token, AAD) == plain


def test_round_trip_chinese_and_empty() -> None:
    for plain in ("张三丰", "广东省广州市天河区五山路1号", ""):
        token = crypto.encrypt(plain, AAD)
        assert token.startswith(f"v1.{crypto.active_key_id()}.")
        assert plain == "" or plain not in token
        assert crypto.decrypt(token, AAD) == plain


def test_stored_form_is_version_key_id_payload() -> None:
    token = crypto.encrypt("张三丰", AAD)
    version, key_id, payload = token.split(".", 2)
    assert version == "v1"
    assert key_id == crypto.active_key_id() == next(iter(crypto.key_ring()))
    assert crypto.key_id_of(token) == key_id
    raw = base64.urlsafe_b64decode(payload)
    # nonce(12) + ciphertext (9 UTF-8 bytes for three CJK characters) + tag(16)
    assert len(raw) == crypto.NONCE_BYTES + len("张三丰".encode()) + 16


def test_nonce_is_fresh_for_every_encryption() -> None:
    tokens = [crypto.encrypt("张三丰", AAD) for _ in range(200)]
    assert len(set(tokens)) == 200
    nonces = {base64.urlsafe_b64decode(t.split(".", 2)[2])[: crypto.NONCE_BYTES] for t in tokens}
    assert len(nonces) == 200


@pytest.mark.parametrize("position", [0, 5, crypto.NONCE_BYTES + 1, -1])
def test_flipped_byte_fails_authentication(position: int) -> None:
    token = crypto.encrypt("440106199001011234", AAD)
    prefix, payload = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload))
    raw[position] ^= 0x01
    tampered = f"{prefix}.{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(crypto.DecryptionError, match="authentication failed"):
        crypto.decrypt(tampered, AAD)


def test_ciphertext_is_bound_to_its_column() -> None:
    token = crypto.encrypt("13812345678", "core.person.phone")
    assert crypto.decrypt(token, "core.person.phone") == "13812345678"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, "core.person.address")


def test_unknown_key_id_is_refused() -> None:
    token = crypto.encrypt("张三丰", AAD)
    _v, _key_id, payload = token.split(".", 2)
    with pytest.raises(crypto.DecryptionError, match="'nosuchkey' is not in XINQIAO_FIELD_KEYS"):
        crypto.decrypt(f"v1.nosuchkey.{payload}", AAD)


def test_key_removed_from_ring_is_refused() -> None:
    with override_settings(XINQIAO_FIELD_KEYS={"gone": _key()}):
        token = crypto.encrypt("张三丰", AAD)
    with pytest.raises(crypto.DecryptionError, match="'gone'"):
        crypto.decrypt(token, AAD)


def test_same_key_id_with_different_key_material_fails() -> None:
    with override_settings(XINQIAO_FIELD_KEYS={"k": _key()}):
        token = crypto.encrypt("张三丰", AAD)
    with override_settings(XINQIAO_FIELD_KEYS={"k": _key()}), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, AAD)


@pytest.mark.parametrize("token", ["plain text", "v2.demo1.AAAA", ""])
def test_malformed_or_unknown_format(token: str) -> None:
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, AAD)


def test_new_values_use_the_first_key_of_the_ring() -> None:
    ring = {"new": _key(), "old": _key()}
    with override_settings(XINQIAO_FIELD_KEYS=ring):
        token = crypto.encrypt("张三丰", AAD)
        assert crypto.active_key_id() == "new"
    assert token.startswith("v1.new.")


# --------------------------------------------------------------------------- blind index


def test_blind_index_is_deterministic_hex_sha256() -> None:
    a = crypto.blind_index("person.id_number", "resident_id:440106199001011234")
    b = crypto.blind_index("person.id_number", "resident_id:440106199001011234")
    assert a == b
    assert len(a) == 64
    int(a, 16)
    assert a != crypto.blind_index("person.id_number", "resident_id:440106199001011235")


def test_blind_index_separates_purposes() -> None:
    value = "440106199001011234"
    assert crypto.blind_index("person.id_number", value) != crypto.blind_index("person.phone", value)
    # The separator keeps purpose and value apart ("a" + "bc" is not "ab" + "c").
    assert crypto.blind_index("a", "bc") != crypto.blind_index("ab", "c")


def test_blind_index_depends_on_its_key_not_on_the_field_keys() -> None:
    before = crypto.blind_index("p", "v")
    with override_settings(XINQIAO_FIELD_KEYS={"other": _key()}):
        assert crypto.blind_index("p", "v") == before
    with override_settings(XINQIAO_BLIND_INDEX_KEY=_key()):
        assert crypto.blind_index("p", "v") != before


# --------------------------------------------------------------------------- EncryptedTextField


def test_field_stores_ciphertext_and_decrypts_on_load(towns) -> None:
    person = PersonFactory(name="张三丰", phone="13812345678", address="广东省广州市天河区五山路1号")
    for field, plain in (("name", "张三丰"), ("phone", "13812345678"), ("address", "广东省广州市天河区五山路1号"),
                         ("id_number", person.id_number)):
        raw = _raw_column(person, field)
        assert raw.startswith("v1.")
        assert plain not in raw
        assert crypto.decrypt(raw, f"core.person.{field}") == plain
    loaded = Person.objects.get(pk=person.pk)
    assert loaded.name == "张三丰"
    assert loaded.phone == "13812345678"
    assert loaded.address == "广东省广州市天河区五山路1号"
    assert loaded.id_number == person.id_number


def test_field_columns_are_bound_to_their_column(towns) -> None:
    person = PersonFactory(name="张三丰")
    raw_name = _raw_column(person, "name")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Person._meta.db_table} SET address = %s WHERE id = %s",  # noqa: S608
                       [raw_name, person.pk])
    with pytest.raises(crypto.DecryptionError):
        Person.objects.get(pk=person.pk)


def test_saving_twice_reencrypts_with_fresh_nonce(towns) -> None:
    person = PersonFactory(name="张三丰")
    first = _raw_column(person, "name")
    person.save()
    second = _raw_column(person, "name")
    assert first != second
    assert Person.objects.get(pk=person.pk).name == "张三丰"


def test_empty_value_is_stored_empty(towns) -> None:
    person = PersonFactory(phone="", address="")
    assert _raw_column(person, "phone") == ""
    assert Person.objects.get(pk=person.pk).phone == ""


@pytest.mark.parametrize("lookup", ["", "__exact", "__iexact", "__contains", "__startswith", "__in"])
def test_lookups_on_encrypted_field_raise_field_error(towns, lookup: str) -> None:
    PersonFactory(name="张三丰")
    value = ["张三丰"] if lookup == "__in" else "张三丰"
    with pytest.raises(FieldError, match="encrypted"):
        list(Person.objects.filter(**{f"name{lookup}": value}))


def test_isnull_lookup_works(towns) -> None:
    person = PersonFactory()
    assert list(Person.objects.filter(name__isnull=False, pk=person.pk)) == [person]
    assert not Person.objects.filter(name__isnull=True, pk=person.pk).exists()
