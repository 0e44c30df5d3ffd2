"""Writes of the paperwork app: spreadsheet imports (all or nothing) and audited prints.

``import_spreadsheet`` is the one entry point of an upload: read the first sheet, match the
headers, parse and check every row (``columns``, ``patient_import``, ``followup_import``), then
either record a rejected/checked batch with its report, or commit every row in ONE transaction
together with the batch row and its audit event. A file whose SHA-256 was committed before is not
even read again; rows already present (the same patient by ID-number blind index, the same
follow-up by patient and date) are skipped, so a re-import never duplicates.

Every batch writes exactly one audit event with counts only (rows, created, skipped, errors):
never an identity.
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xinqiao.core import audit
from xinqiao.core.models import AuditAction
from xinqiao.paperwork.columns import Column, RowError, match_header
from xinqiao.paperwork.models import ImportBatch, ImportKind, ImportStatus
from xinqiao.paperwork.sheets import Sheet, SheetError, detect_format, open_sheet, read_sheet
from xinqiao.paperwork.workbooks import is_example_row

DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def limits() -> dict[str, int]:
    """``data/import.json``: rows per file, upload size, insert batch size, report lines kept."""
    raw = json.loads((DATA / "import.json").read_text(encoding="utf-8"))
    return {key: int(value) for key, value in raw.items() if not key.startswith("_")}


class Importer(Protocol):
    """What ``patient_import.PatientImport`` and ``followup_import.FollowUpImport`` provide."""

    columns: tuple[Column, ...]

    def check_row(self, number: int, values: dict[str, Any], errors: list[RowError]) -> Any: ...

    def check_duplicates(self, rows: list[Any], errors: list[RowError], notes: list[list[Any]]) -> list[Any]: ...

    def commit(self, rows: list[Any], batch_size: int) -> dict[str, int]: ...


#: Per kind: the permissions an importer needs besides ``paperwork.add_importbatch``.
KIND_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ImportKind.PATIENTS: ("patients.add_patient",),
    ImportKind.FOLLOWUPS: ("followups.add_followup",),
}


def importer_for(kind: str, actor: Any) -> Importer:
    if kind == ImportKind.PATIENTS:
        from xinqiao.paperwork.patient_import import PatientImport

        return PatientImport(actor)
    if kind == ImportKind.FOLLOWUPS:
        from xinqiao.paperwork.followup_import import FollowUpImport

        return FollowUpImport(actor)
    raise ValueError(kind)


def columns_for(kind: str) -> tuple[Column, ...]:
    """The template's columns of a kind (no database access)."""
    if kind == ImportKind.PATIENTS:
        from xinqiao.paperwork.patient_import import COLUMNS

        return COLUMNS
    from xinqiao.paperwork.followup_import import COLUMNS as FOLLOWUP_COLUMNS

    return FOLLOWUP_COLUMNS


def may_import(actor: Any, kind: str) -> bool:
    """Whether the actor may upload this kind of spreadsheet."""
    return bool(actor.is_authenticated and actor.region_id and actor.has_perm("paperwork.add_importbatch")
                and all(actor.has_perm(p) for p in KIND_PERMISSIONS.get(kind, ("-",))))


@dataclass
class Validation:
    """The outcome of reading and checking a file (nothing written yet)."""

    rows_total: int = 0
    valid: list[Any] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    notes: list[list[Any]] = field(default_factory=list)
    invalid_rows: int = 0
    skipped: int = 0


def sheet_message(error: SheetError) -> str:
    """The translated message of a reading error."""
    messages = {
        "not_xlsx": _("The file is not an Excel workbook (.xlsx) that can be read."),
        "not_csv": _("The file is not a CSV file that can be read."),
        "encoding": _("The CSV file is neither UTF-8 nor GB18030 (GBK) text."),
        "too_large": _("The sheet is too large."),
        "too_many_rows": _("The file has more than %(max_rows)s rows: split it into several files."),
        "empty": _("The file has no header row."),
        "no_sheet": _("The workbook has no sheet."),
    }
    return messages.get(error.code, _("The file cannot be read.")) % error.params


class RowChecker:
    """Parses and checks rows one at a time against the header, filling a ``Validation``.

    ``validate_sheet`` runs it over a whole sheet; a streaming importer (``PatientImport.import_stream``)
    runs it chunk by chunk while earlier chunks are written. Both give the same report.
    """

    def __init__(self, importer: Importer, header: list[str], header_row: int, result: Validation) -> None:
        self.importer = importer
        self.header_row = header_row
        self.result = result
        positions, missing, unknown = match_header(importer.columns, header)
        for text in unknown:
            result.notes.append([header_row, _("Column “%(column)s” is not part of the template and was "
                                               "ignored.") % {"column": text[:40]}])
        for text in missing:
            result.errors.append(RowError(header_row, text, _("This required column is missing from the header row.")))
        self.usable = not missing
        self.positions = positions
        self.required_message = _("This column must not be empty.")
        self.plan = [(column.key, positions[column.key], column.parser(), column.required, str(column.header))
                     for column in importer.columns if column.key in positions]
        self.seen = 0

    def check(self, number: int, cells: list[Any]) -> Any | None:
        """The importer's row object for a clean row; ``None`` (errors recorded) otherwise."""
        result = self.result
        result.rows_total += 1
        self.seen += 1
        if not self.usable:
            result.invalid_rows += 1
            return None
        if self.seen == 1 and is_example_row(self.importer.columns, self.positions, cells):
            result.rows_total -= 1
            result.notes.append([number, _("The template's example row was skipped.")])
            return None
        errors = result.errors
        size = len(cells)
        values: dict[str, Any] = {}
        before = len(errors)
        required_message = self.required_message
        for key, position, parse, required, header in self.plan:
            cell = cells[position] if position < size else None
            if cell is not None:
                value, problem = parse(cell)
                if problem is not None:
                    errors.append(RowError(number, header, problem))
                    continue
                if value != "":
                    values[key] = value
                    continue
            if required:
                errors.append(RowError(number, header, required_message))
        row = self.importer.check_row(number, values, errors)
        if row is None or len(errors) > before:
            result.invalid_rows += 1
            return None
        return row

    def chunks(self, rows: Iterator[tuple[int, list[Any]]], size: int) -> Iterator[list[Any]]:
        """The clean rows of ``rows``, ``size`` sheet rows at a time (possibly empty lists)."""
        chunk: list[Any] = []
        taken = 0
        check = self.check
        for number, cells in rows:
            row = check(number, cells)
            if row is not None:
                chunk.append(row)
            taken += 1
            if taken == size:
                yield chunk
                chunk, taken = [], 0
        if taken:
            yield chunk

    def classified(self, before_errors: int, before_notes: int) -> None:
        """Count what a duplicate check added since the given lengths of errors and notes."""
        result = self.result
        result.skipped += len(result.notes) - before_notes
        result.invalid_rows += len({e.row for e in result.errors[before_errors:]})


def validate_sheet(importer: Importer, sheet: Sheet) -> Validation:
    """Parse and check every row; rows with any error are not kept (the report lists them all)."""
    result = Validation()
    checker = RowChecker(importer, sheet.header, sheet.header_row, result)
    candidates = [row for chunk in checker.chunks(iter(sheet.rows), max(len(sheet.rows), 1)) for row in chunk]
    if not checker.usable:
        return result
    errors_before, notes_before = len(result.errors), len(result.notes)
    result.valid = importer.check_duplicates(candidates, result.errors, result.notes)
    checker.classified(errors_before, notes_before)
    return result


class Rejected(Exception):
    """A streamed import found errors: its transaction is rolled back (raised inside it)."""


def import_spreadsheet(actor: Any, kind: str, file_name: str, data: bytes, *, commit: bool = True) -> ImportBatch:
    """Check an uploaded spreadsheet and, when every row is valid and ``commit``, import it all.

    Returns the saved batch (status rejected, checked, committed or duplicate). Raises
    ``PermissionDenied`` when the actor may not import this kind.

    An importer with ``import_stream`` (patients) checks and writes at once: chunks of checked rows
    are written inside the one transaction while later rows are still being read and checked, and
    any error anywhere rolls everything back (the report is the same as a check-only run's). Others
    check the whole file first, then write.
    """
    if kind not in ImportKind.values or not may_import(actor, kind):
        raise PermissionDenied
    cfg = limits()
    digest = hashlib.sha256(data).hexdigest()
    file_format = detect_format(file_name, data)
    batch = ImportBatch(kind=kind, file_name=file_name[-255:], file_format=file_format, sha256=digest,
                        region_id=actor.region_id, created_by=actor)
    if ImportBatch.objects.filter(kind=kind, sha256=digest, status=ImportStatus.COMMITTED).exists():
        return _finish(batch, ImportStatus.DUPLICATE)
    collecting = gc.isenabled()
    gc.disable()  # tens of thousands of small objects live until the end: see sheets.read_sheet
    try:
        importer = importer_for(kind, actor)
        try:
            if commit and hasattr(importer, "import_stream"):
                return _import_streamed(importer, batch, data, cfg)
            return _import_checked_first(importer, batch, data, cfg, commit=commit)
        except SheetError as exc:
            batch.errors = [[0, "", sheet_message(exc)]]
            batch.error_count = 1
            batch.rows_total = batch.rows_invalid = batch.rows_skipped = 0
            batch.notes = []
            return _finish(batch, ImportStatus.REJECTED)
        except IntegrityError:
            # Another upload of the same file committed first (importbatch_file_once): nothing of
            # this one was kept. Any other integrity error is a bug: let it surface.
            if not ImportBatch.objects.filter(kind=kind, sha256=digest, status=ImportStatus.COMMITTED).exists():
                raise
            batch.pk = None
            batch.rows_created = 0
            return _finish(batch, ImportStatus.DUPLICATE)
    finally:
        if collecting:
            gc.enable()


def _report(batch: ImportBatch, result: Validation, header_row: int, cfg: dict[str, int]) -> bool:
    """Copy the validation's counts and (bounded) messages to the batch; ``True`` when it has errors."""
    if not result.errors and not result.rows_total:
        result.errors.append(RowError(header_row, "", _("The file has no data rows.")))
    batch.rows_total = result.rows_total
    batch.rows_invalid = result.invalid_rows
    batch.error_count = len(result.errors)
    batch.errors = [e.as_list() for e in result.errors[:cfg["max_stored_messages"]]]
    batch.notes = result.notes[:cfg["max_stored_messages"]]
    batch.rows_skipped = result.skipped
    return bool(result.errors)


def _import_checked_first(importer: Importer, batch: ImportBatch, data: bytes, cfg: dict[str, int], *,
                          commit: bool) -> ImportBatch:
    """Read and check the whole file, then (when clean and ``commit``) write it in one transaction."""
    started = time.perf_counter()
    sheet = read_sheet(data, batch.file_format, max_rows=cfg["max_rows"])
    result = validate_sheet(importer, sheet)
    batch.validate_ms = round((time.perf_counter() - started) * 1000)
    if _report(batch, result, sheet.header_row, cfg):
        return _finish(batch, ImportStatus.REJECTED)
    if not commit:
        return _finish(batch, ImportStatus.CHECKED)
    started = time.perf_counter()
    with transaction.atomic():
        counts = importer.commit(result.valid, cfg["batch_size"])
        batch.rows_created = counts["created"]
        _finish(batch, ImportStatus.COMMITTED, counts)
    # Timed to the end of COMMIT (the database's own work included).
    batch.commit_ms = round((time.perf_counter() - started) * 1000)
    ImportBatch.objects.filter(pk=batch.pk).update(commit_ms=batch.commit_ms)
    return batch


def _import_streamed(importer: Any, batch: ImportBatch, data: bytes, cfg: dict[str, int]) -> ImportBatch:
    """Check and write chunk by chunk in one transaction; roll it all back on any error.

    ``validate_ms`` is the time to the last row checked (writes ran alongside); ``commit_ms`` the
    rest, to the end of COMMIT: their sum is the whole import.
    """
    started = time.perf_counter()
    opened = open_sheet(data, batch.file_format, max_rows=cfg["max_rows"])
    result = Validation()
    checker = RowChecker(importer, opened.header, opened.header_row, result)
    checked_at: list[float] = []
    try:
        with transaction.atomic():
            counts = importer.import_stream(checker, opened.rows, cfg["stream_chunk"],
                                            on_checked=lambda: checked_at.append(time.perf_counter()))
            if _report(batch, result, opened.header_row, cfg):
                raise Rejected
            batch.validate_ms = round(((checked_at or [time.perf_counter()])[0] - started) * 1000)
            batch.rows_created = counts["created"]
            _finish(batch, ImportStatus.COMMITTED, counts)
    except Rejected:
        batch.validate_ms = round(((checked_at or [time.perf_counter()])[0] - started) * 1000)
        batch.pk = None
        return _finish(batch, ImportStatus.REJECTED)
    batch.commit_ms = round((time.perf_counter() - started) * 1000) - batch.validate_ms
    ImportBatch.objects.filter(pk=batch.pk).update(commit_ms=batch.commit_ms)
    return batch


def _finish(batch: ImportBatch, status: str, counts: dict[str, int] | None = None) -> ImportBatch:
    """Save the batch with its status and write its one audit event (counts, never identities)."""
    batch.status = status
    with transaction.atomic():
        batch.save()
        audit.record(AuditAction.CREATE, obj=batch, actor=batch.created_by, detail={
            "kind": batch.kind, "status": status, "format": batch.file_format, "rows": batch.rows_total,
            "invalid_rows": batch.rows_invalid, "errors": batch.error_count, "created": batch.rows_created,
            "skipped": batch.rows_skipped, **(counts or {}),
        })
    return batch


def view_batch(actor: Any, batch: ImportBatch) -> ImportBatch:
    """A batch's report seen by the actor (reached through ``restrict``); audited as a view."""
    audit.record(AuditAction.VIEW, obj=batch, actor=actor, detail={"kind": batch.kind, "status": batch.status})
    return batch


# --- Printing the national forms -------------------------------------------------------------------------

PRINT_PERMISSION = "paperwork.print_forms"


def _footer(actor: Any, blank: bool) -> str:
    from django.utils import timezone

    if blank:
        return _("xinqiao · blank form for paper use")
    return _("xinqiao · printed by %(user)s at %(time)s · confidential (Mental Health Law Art. 4)") % {
        "user": actor.get_username(), "time": timezone.localtime().strftime("%Y-%m-%d %H:%M")}


def _reveal(actor: Any, patient: Any, purpose: str | None) -> bool:
    """Unmask the patient's record for the print when a purpose is given (audited; may raise)."""
    if purpose is None:
        return False
    from xinqiao.patients.services import unmask_patient

    unmask_patient(actor, patient, purpose)
    return True


def print_supplement(actor: Any, patient: Any, *, purpose: str | None = None) -> bytes:
    """The patient's 个人信息补充表 as PDF, masked unless ``purpose`` (then audited as an unmask too).

    The caller reached ``patient`` through ``restrict``; the print is audited as an export.
    """
    if not actor.has_perm(PRINT_PERMISSION):
        raise PermissionDenied
    from xinqiao.paperwork.layouts import supplement_form
    from xinqiao.paperwork.pdf import render_pdf
    from xinqiao.patients.models import PersonalSupplement

    with transaction.atomic():
        unmasked = _reveal(actor, patient, purpose)
        supplement = PersonalSupplement.objects.filter(patient=patient).first()
        context = supplement_form(actor, patient, patient.person, supplement, unmasked=unmasked)
        content = render_pdf("paperwork/pdf/supplement.html", {**context, "footer": _footer(actor, False)})
        audit.record(AuditAction.EXPORT, obj=patient, actor=actor, detail={
            "form": "supplement", "format": "pdf", "masked": not unmasked, "supplement": supplement is not None})
    return content


def print_followup(actor: Any, followup: Any, *, purpose: str | None = None) -> bytes:
    """One 随访服务记录表 as PDF, masked unless ``purpose``; audited as an export of the follow-up."""
    if not actor.has_perm(PRINT_PERMISSION):
        raise PermissionDenied
    from xinqiao.paperwork.layouts import followup_form
    from xinqiao.paperwork.pdf import render_pdf

    patient = followup.patient
    with transaction.atomic():
        unmasked = _reveal(actor, patient, purpose)
        context = followup_form(actor, followup, patient, patient.person, medications=list(followup.medications.all()),
                                unmasked=unmasked)
        content = render_pdf("paperwork/pdf/followup.html", {**context, "footer": _footer(actor, False)})
        audit.record(AuditAction.EXPORT, obj=followup, actor=actor, detail={
            "form": "followup", "format": "pdf", "masked": not unmasked, "patient": patient.pk})
    return content


def print_blank(actor: Any, form: str) -> bytes:
    """A blank form for paper use (no personal data, not audited)."""
    from xinqiao.paperwork.layouts import followup_form, supplement_form
    from xinqiao.paperwork.pdf import render_pdf

    if form == "supplement":
        return render_pdf("paperwork/pdf/supplement.html", {**supplement_form(actor), "footer": _footer(actor, True)})
    return render_pdf("paperwork/pdf/followup.html", {**followup_form(actor), "footer": _footer(actor, True)})
