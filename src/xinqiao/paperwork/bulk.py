"""Bulk inserts for imports: PostgreSQL ``COPY`` with pre-allocated ids, ``bulk_create`` elsewhere.

``bulk_create`` spends most of its time in Django's per-field preparation (about 5 µs per field,
measured: a 54-column patient row touches ~110 fields across four tables). An import knows its
values are already clean, so on PostgreSQL ``insert_rows`` takes the ids from the table's sequence
in one query and streams the rows with ``COPY … FROM STDIN`` (psycopg 3), inside the caller's
transaction. Rows are formatted here as COPY text, the way ``patients.synth`` feeds its tables
(its ``Table`` gives the statement and the constant text of every column the rows do not carry:
defaults, ``auto_now(_add)``), and values are prepared the way the model fields would store them:
encrypted fields through ``Encryptor`` (same format and associated data as
``core.crypto.encrypt``, one cipher object per column instead of a key-ring look-up per value),
JSON as text. On SQLite (the embedded default) it is ``bulk_create`` with the same inputs.

``copy_stream()`` overlaps the database's work with this process's: inside it, each batch's COPY
text is handed to a writer thread that sends it on the same connection, in the same transaction,
while the caller formats and encrypts the next batch. Foreign keys are checked per statement
(``SET CONSTRAINTS ALL IMMEDIATE``) so that their checks run during the stream rather than all at
COMMIT. An error in the writer aborts the transaction and is raised when the stream closes.

Rows are dicts ``{attname: value}``; missing fields take their model default.
"""

from __future__ import annotations

import binascii
import json
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connection, models
from django.utils import timezone

from xinqiao.core import crypto
from xinqiao.core.fields import EncryptedTextField

#: NULL in COPY text.
NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_MISSING = object()


class Encryptor:
    """``core.crypto.encrypt`` for one column: ``v1.<active key id>.<b64(nonce | ciphertext | tag)>``.

    Nonces are 96 random bits from ``os.urandom`` as in ``core.crypto``, read 4,096 at a time.
    """

    _NONCES = 4096

    def __init__(self, aad: str) -> None:
        key_id = crypto.active_key_id()
        self._encrypt = AESGCM(crypto.key_ring()[key_id]).encrypt
        self._aad = aad.encode()
        self._prefix = f"{crypto.VERSION}.{key_id}."
        self._nonces: list[bytes] = []

    def __call__(self, plaintext: str) -> str:
        if not self._nonces:
            size = crypto.NONCE_BYTES
            pool = os.urandom(size * self._NONCES)
            self._nonces = [pool[i:i + size] for i in range(0, len(pool), size)]
        nonce = self._nonces.pop()
        sealed = self._encrypt(nonce, plaintext.encode("utf-8"), self._aad)
        return self._prefix + binascii.b2a_base64(nonce + sealed, newline=False).translate(_URLSAFE).decode("ascii")


def _kind(field: models.Field) -> str:
    """How a field's values become COPY text (see ``CopyTable.column``)."""
    if isinstance(field, models.ForeignKey):
        return _kind(field.target_field)
    if isinstance(field, EncryptedTextField):
        return "encrypted"
    if isinstance(field, models.JSONField):
        return "json"
    if isinstance(field, models.BooleanField):
        return "bool"
    if isinstance(field, models.DateField):  # DateTimeField too
        return "date"
    if isinstance(field, models.IntegerField):
        return "int"
    return "text"


class CopyTable:
    """One model's COPY statement and formatter for the keys a batch of rows carries.

    Rows are formatted column by column (one comprehension per column, no call per value except
    encryption), then joined row by row.
    """

    def __init__(self, model: type[models.Model], keys: Sequence[str]) -> None:
        from xinqiao.patients.synth import Table

        meta = model._meta
        assert meta.pk is not None
        now = timezone.now()
        by_attname = {f.attname: f for f in meta.concrete_fields}
        provided = [meta.pk.attname, *(k for k in keys if k != meta.pk.attname)]
        # Columns the rows do not carry: their default, computed once (``synth.Table``). A
        # NOT NULL column without a default gets what ``bulk_create`` would give it (``""``).
        for f in meta.concrete_fields:
            if f.attname not in provided and not f.primary_key and not f.null and not f.has_default() \
                    and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False):
                provided.append(f.attname)
        self.table = Table(model, provided, now.isoformat())
        self.sql = self.table.copy_sql()
        self.columns: list[tuple[str, str, str, Encryptor | None]] = []
        for attname in provided[1:]:
            f = by_attname[attname]
            kind = _kind(f)
            encrypt = Encryptor(f.aad) if isinstance(f, EncryptedTextField) else None
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                default = now.isoformat()
            else:
                value = f.get_default()  # "" for text without a default, like bulk_create
                default = self._texts(kind, encrypt, [value], "")[0]
            self.columns.append((attname, kind, default, encrypt))

    @staticmethod
    def _texts(kind: str, encrypt: Encryptor | None, values: list[Any], default: str) -> list[str]:
        """The COPY text of each value (``_MISSING`` → ``default``)."""
        missing, null, escapes = _MISSING, NULL, _ESCAPES
        if kind == "encrypted":
            assert encrypt is not None
            return [default if v is missing else null if v is None else encrypt(str(v)) if v != "" else ""
                    for v in values]
        if kind == "int":
            return [default if v is missing else null if v is None else str(int(v)) for v in values]
        if kind == "date":
            return [default if v is missing else null if v is None else v.isoformat() for v in values]
        if kind == "bool":
            return [default if v is missing else null if v is None else "t" if v else "f" for v in values]
        if kind == "json":
            return [default if v is missing else json.dumps(v, ensure_ascii=False).translate(escapes) for v in values]
        return [default if v is missing else null if v is None else str(v).translate(escapes) for v in values]

    def lines(self, ids: Sequence[int], rows: Sequence[dict[str, Any]]) -> str:
        """The COPY text of ``rows`` with primary keys ``ids``."""
        missing = _MISSING
        columns = [[str(pk) for pk in ids]]
        for attname, kind, default, encrypt in self.columns:
            columns.append(self._texts(kind, encrypt, [row.get(attname, missing) for row in rows], default))
        suffix = self.table.suffix + "\n"
        return "".join([("\t".join(parts) + suffix) for parts in zip(*columns, strict=True)])


class CopyStream:
    """A writer thread sending COPY batches on the caller's connection (same transaction)."""

    def __init__(self) -> None:
        self._raw = connection.connection
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=4)
        self._thread = threading.Thread(target=self._run, name="import-copy", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def put(self, sql: str, payload: bytes) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put((sql, payload))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        assert self._raw is not None
        while (item := self._queue.get()) is not None:
            if self.error is not None:
                continue  # the transaction is aborted: drain until closed
            sql, payload = item
            try:
                with self._raw.cursor() as cursor, cursor.copy(sql) as copy:
                    copy.write(payload)
            except BaseException as exc:  # re-raised in the caller's thread by copy_stream
                self.error = exc


@contextmanager
def copy_stream() -> Iterator[CopyStream | None]:
    """A ``CopyStream`` on PostgreSQL (``None`` elsewhere); must run inside a transaction."""
    if connection.vendor != "postgresql":
        yield None
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    stream = CopyStream()
    stream.start()
    try:
        yield stream
    except BaseException as exc:
        stream.close()
        if stream.error is not None:
            with connection.wrap_database_errors:  # psycopg's error as Django's
                raise stream.error from exc  # the writer's failure is the cause of what followed
        raise
    stream.close()
    if stream.error is not None:
        with connection.wrap_database_errors:
            raise stream.error
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]], *, batch_size: int = 2000,
                stream: CopyStream | None = None) -> list[int]:
    """Insert ``rows`` of ``model`` and return their primary keys, in order.

    With a ``stream`` (PostgreSQL) the batches are queued to its writer thread and may still be in
    flight when this returns; closing the stream waits for them.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=batch_size)
        return [obj.pk for obj in objs]
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    table = CopyTable(model, list(keys))
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, pk.column, len(rows)])
        ids = [row[0] for row in cursor.fetchall()]
    raw = connection.connection
    assert raw is not None
    for start in range(0, len(rows), batch_size):
        payload = table.lines(ids[start:start + batch_size], rows[start:start + batch_size]).encode("utf-8")
        if stream is not None:
            stream.put(table.sql, payload)
        else:
            with connection.wrap_database_errors, raw.cursor() as cursor, cursor.copy(table.sql) as copy:
                copy.write(payload)
    return ids
