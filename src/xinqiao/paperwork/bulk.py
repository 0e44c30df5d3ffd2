"""Bulk inserts for imports: PostgreSQL ``COPY`` with pre-allocated ids, ``bulk_create`` elsewhere.

``bulk_create`` spends most of its time in Django's per-field preparation (about 5 µs per field,
measured: a 54-column patient row touches ~110 fields across four tables). An import knows its
values are already clean, so on PostgreSQL ``allocate_ids`` takes the ids from the table's sequence
in one query and ``write_rows`` / ``write_columns`` stream the rows with ``COPY … FROM STDIN``
(psycopg 3), inside the caller's transaction. Rows are formatted here as COPY text, the way
``patients.synth`` feeds its tables
(its ``Table`` gives the statement and the constant text of every column the rows do not carry:
defaults, ``auto_now(_add)``), and values are prepared the way the model fields would store them:
encrypted fields through ``Encryptor`` (same format and associated data as
``core.crypto.encrypt``, one cipher object per column instead of a key-ring look-up per value),
JSON as text. On SQLite (the embedded default) it is ``bulk_create`` with the same inputs.

``copy_stream()`` overlaps the database's work with this process's: inside it, a writer thread
owns the connection and runs, in order, the jobs it is given, in the caller's transaction: each
batch's COPY text (``put``), and any other statement whose result the caller collects later
(``submit`` returns a ``Future``: id blocks from a sequence, look-ups, register numbers), while the
caller goes on reading, checking, formatting and encrypting. The caller never touches the
connection while the stream is open, so it never waits for a COPY in flight. Foreign keys are
checked per statement (``SET CONSTRAINTS ALL IMMEDIATE``) so that their checks run during the
stream rather than all at COMMIT. An error in a job aborts the transaction: every later job fails
with it, and it is raised when the stream closes. On SQLite there is no thread: ``copy_stream``
yields ``SyncStream``, which runs each job at once on Django's cursor.

Rows are dicts ``{attname: value}`` (``write_rows``) or columns (``write_columns``); a missing
value takes its field's default.
"""

from __future__ import annotations

import binascii
import json
import os
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import psycopg
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
#: A cell with no value in a column given to ``write_columns``: the column's default.
MISSING = _MISSING


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

    def many(self, values: Sequence[Any], default: str) -> list[str]:
        """The COPY text of a column: ``_MISSING`` → ``default``, ``None`` → NULL, ``""`` stays empty,
        anything else encrypted (its ``str``), each with a fresh nonce from one ``os.urandom`` read."""
        size = crypto.NONCE_BYTES
        pool = os.urandom(size * len(values))
        encrypt, aad, prefix, b2a, urlsafe = self._encrypt, self._aad, self._prefix, binascii.b2a_base64, _URLSAFE
        missing, null = _MISSING, NULL
        out: list[str] = []
        append = out.append
        at = 0
        for v in values:
            if v is missing:
                append(default)
            elif v is None:
                append(null)
            elif v == "":
                append("")
            else:
                nonce = pool[at:at + size]
                at += size
                append(prefix + b2a(nonce + encrypt(nonce, str(v).encode("utf-8"), aad),
                                    newline=False).translate(urlsafe).decode("ascii"))
        return out


class Same:
    """A column with one value for every row of a batch (formatted once)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


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

    def __init__(self, model: type[models.Model], keys: Sequence[str], *, with_ids: bool = True) -> None:
        from xinqiao.patients.synth import Table

        meta = model._meta
        assert meta.pk is not None
        now = timezone.now()
        by_attname = {f.attname: f for f in meta.concrete_fields}
        self.with_ids = with_ids
        # Without ids the database numbers the rows (the caller never needs them back).
        provided = [*([meta.pk.attname] if with_ids else []), *(k for k in keys if k != meta.pk.attname)]
        # Columns the rows do not carry: their default, computed once (``synth.Table``). A
        # NOT NULL column without a default gets what ``bulk_create`` would give it (``""``).
        for f in meta.concrete_fields:
            if f.attname not in provided and not f.primary_key and not f.null and not f.has_default() \
                    and not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False):
                provided.append(f.attname)
        self.table = Table(model, provided, now.isoformat())
        self.sql = self.table.copy_sql()
        self.columns: list[tuple[str, str, str, Encryptor | None]] = []
        for attname in provided[1 if with_ids else 0:]:
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
            return encrypt.many(values, default)
        if kind == "int":
            return [default if v is missing else null if v is None else str(int(v)) for v in values]
        if kind == "date":
            return [default if v is missing else null if v is None else v.isoformat() for v in values]
        if kind == "bool":
            return [default if v is missing else null if v is None else "t" if v else "f" for v in values]
        if kind == "json":
            return [default if v is missing else json.dumps(v, ensure_ascii=False).translate(escapes) for v in values]
        return [default if v is missing else null if v is None else str(v).translate(escapes) for v in values]

    def lines(self, ids: Sequence[int] | None, rows: Sequence[dict[str, Any]]) -> str:
        """The COPY text of ``rows`` with primary keys ``ids`` (``None`` when built ``with_ids=False``)."""
        missing = _MISSING
        return self.lines_columns(ids, len(rows), {attname: [row.get(attname, missing) for row in rows]
                                                   for attname, _kind, _default, _encrypt in self.columns})

    def lines_columns(self, ids: Sequence[int] | None, count: int, columns: dict[str, Any]) -> str:
        """The COPY text of ``count`` rows given column by column: a sequence of ``count`` values,
        or ``Same(value)``; a column not given takes its default."""
        assert (ids is not None) == self.with_ids
        texts = [[str(pk) for pk in ids]] if ids is not None else []
        for attname, kind, default, encrypt in self.columns:
            values = columns.get(attname, _MISSING)
            if values is _MISSING:
                texts.append([default] * count)
            elif isinstance(values, Same):
                texts.append(self._texts(kind, encrypt, [values.value] * count, default) if kind == "encrypted"
                             else self._texts(kind, encrypt, [values.value], default) * count)
            else:
                texts.append(self._texts(kind, encrypt, values, default))
        suffix = self.table.suffix + "\n"
        return "".join([("\t".join(parts) + suffix) for parts in zip(*texts, strict=True)])


Job = Callable[[Any], Any]


class CopyStream:
    """A writer thread running jobs on the caller's connection, in order, in the same transaction.

    A job is a function of a DB-API cursor (``psycopg.ClientCursor``, which binds parameters as
    Django's own cursors do, so a queryset's ``sql_with_params()`` runs unchanged); COPY jobs get
    the raw connection's cursor.
    """

    def __init__(self) -> None:
        raw = connection.connection
        assert raw is not None
        self._raw = raw
        self._queue: queue.Queue[tuple[Job, Future[Any], bool] | None] = queue.Queue(maxsize=8)
        self._thread = threading.Thread(target=self._run, name="import-copy", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Job) -> Future[Any]:
        """Run ``job(cursor)`` after the jobs before it; its result (or error) comes in the future."""
        return self._enqueue(job, copy=False)

    def put(self, sql: str, payload: bytes) -> None:
        """Send ``payload`` with the COPY statement ``sql``."""
        def copy_job(cursor: Any) -> None:
            with cursor.copy(sql) as copy:
                copy.write(payload)

        self._enqueue(copy_job, copy=True)

    def _enqueue(self, job: Job, *, copy: bool) -> Future[Any]:
        if self.error is not None:
            raise self.error
        future: Future[Any] = Future()
        self._queue.put((job, future, copy))
        return future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            job, future, copy = item
            if self.error is not None:  # the transaction is aborted: fail what follows until closed
                future.set_exception(self.error)
                continue
            try:
                cursor_class = psycopg.Cursor if copy else psycopg.ClientCursor
                with cursor_class(self._raw) as cursor:
                    future.set_result(job(cursor))
            except BaseException as exc:  # re-raised in the caller's thread by copy_stream
                self.error = exc
                future.set_exception(exc)


class SyncStream:
    """``CopyStream``'s job interface where there is no COPY (SQLite): each job runs at once."""

    def submit(self, job: Job) -> Future[Any]:
        future: Future[Any] = Future()
        with connection.cursor() as cursor:
            future.set_result(job(cursor))
        return future


@contextmanager
def job_stream() -> Iterator[CopyStream | SyncStream]:
    """``copy_stream()`` on PostgreSQL, a ``SyncStream`` elsewhere; must run inside a transaction."""
    if connection.vendor != "postgresql":
        yield SyncStream()
        return
    with copy_stream() as stream:
        assert stream is not None
        yield stream


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
        error = stream.error
        if error is not None:
            with connection.wrap_database_errors:  # psycopg's error as Django's
                if error is exc:  # collected from a job's future
                    raise
                raise error from exc  # the writer's failure is the cause of what followed
        raise
    stream.close()
    if stream.error is not None:
        with connection.wrap_database_errors:
            raise stream.error
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def allocate_ids(stream: CopyStream | SyncStream, model: type[models.Model], count: int) -> Future[list[int] | None]:
    """``count`` primary keys from the table's sequence (PostgreSQL), taken by the stream in turn.

    On SQLite the future holds ``None``: the rows get their ids when they are inserted.
    """
    if isinstance(stream, SyncStream) or count == 0:
        done: Future[list[int] | None] = Future()
        done.set_result(None if isinstance(stream, SyncStream) else [])
        return done
    meta = model._meta
    assert meta.pk is not None
    table, column = meta.db_table, meta.pk.column

    def job(cursor: Any) -> list[int]:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [table, column, count])
        return [row[0] for row in cursor.fetchall()]

    return stream.submit(job)


def _copy_table(model: type[models.Model], keys: list[str], with_ids: bool,
                tables: dict[Any, CopyTable] | None) -> CopyTable:
    """The ``CopyTable`` of a model and key set, from the caller's cache when it keeps one."""
    cache_key = (model, tuple(keys), with_ids)
    table = tables.get(cache_key) if tables is not None else None
    if table is None:
        table = CopyTable(model, keys, with_ids=with_ids)
        if tables is not None:
            tables[cache_key] = table
    return table


def write_rows(model: type[models.Model], rows: Sequence[dict[str, Any]], stream: CopyStream | SyncStream, *,
               ids: Sequence[int] | None = None, tables: dict[Any, CopyTable] | None = None) -> list[int] | None:
    """Queue ``rows`` of ``model`` on the stream: COPY with the given ``ids`` (from ``allocate_ids``),
    or numbered by the database when ``ids`` is ``None``. On SQLite: ``bulk_create`` now, returning
    the ids it gave. ``tables`` caches the ``CopyTable`` per model and key set between batches.
    """
    if not rows:
        return []
    if isinstance(stream, SyncStream):
        objs = [model(**row) for row in rows]
        model._default_manager.bulk_create(objs)
        return [obj.pk for obj in objs]
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    table = _copy_table(model, list(keys), ids is not None, tables)
    stream.put(table.sql, table.lines(ids, rows).encode("utf-8"))
    return list(ids) if ids is not None else None


def write_columns(model: type[models.Model], count: int, columns: dict[str, Any], stream: CopyStream | SyncStream, *,
                  ids: Sequence[int] | None = None, tables: dict[Any, CopyTable] | None = None) -> list[int] | None:
    """``write_rows`` for rows given column by column (``CopyTable.lines_columns``): no dict per row."""
    if not count:
        return []
    if isinstance(stream, SyncStream):
        plain = {k: v for k, v in columns.items() if not isinstance(v, Same)}
        same = {k: v.value for k, v in columns.items() if isinstance(v, Same)}
        return write_rows(model, [{**same, **{k: v[i] for k, v in plain.items() if v[i] is not _MISSING}}
                                  for i in range(count)], stream)
    table = _copy_table(model, list(columns), ids is not None, tables)
    stream.put(table.sql, table.lines_columns(ids, count, columns).encode("utf-8"))
    return list(ids) if ids is not None else None
