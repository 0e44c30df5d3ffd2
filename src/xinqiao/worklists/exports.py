"""Excel export of one work list: scoped with the ``export`` action, masked as on screen, audited.

Follows ``core/exports.py``: an export never carries revealed values (unmasking is per record, with
a purpose), hidden categories are left out of the file, and the download is one audit event with
the number of rows.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from xinqiao.core import audit
from xinqiao.core.exports import XLSX
from xinqiao.core.masks import Visibility, visibility
from xinqiao.core.models import AuditAction, Person
from xinqiao.patients.models import Patient
from xinqiao.worklists import queries
from xinqiao.worklists.labels import list_label

#: Patient columns in the file, in this order (each shown only if the role may see its category).
PATIENT_COLUMNS: tuple[str, ...] = (
    "danger_level", "last_classification", "last_followup_date", "next_followup_due", "responsible_doctor",
)


def _verbose(model: Any, field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date | int | float):
        return value
    return str(value)


def build_worklist_workbook(user: Any, code: str, *, mine: bool = False,
                            today: date | None = None) -> tuple[bytes, int]:
    """The workbook bytes of list ``code`` and the number of rows written."""
    today = today or timezone.localdate()
    qs = queries.worklist(user, code, today=today, mine=mine, action="export")
    columns = [f for f in PATIENT_COLUMNS if visibility(user, Patient.PII_FIELDS[f]) != Visibility.HIDDEN]
    show_name = visibility(user, Person.PII_FIELDS["name"]) != Visibility.HIDDEN
    dated = "next_followup_due" in queries.full_fields(user)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=str(list_label(code))[:31])
    header = [_("register number"), _("township code"), _("township")]
    if show_name:
        header.append(_verbose(Person, "name"))
    header += [_verbose(Patient, f) for f in columns]
    if dated and code in ("overdue", "first_visit"):
        header.append(_("days overdue") if code == "overdue" else _("days waiting"))
    if dated and code == "first_visit":
        header.append(_("first visit late"))
    if dated and code == "failed_attempts":
        header += [_verbose(Patient, "failed_attempts"), _("propose lost to follow-up")]
    ws.append(header)
    full = queries.full_fields(user)
    count = 0
    for patient in qs.iterator(chunk_size=2000):
        row = queries.make_row(user, patient, full)
        line: list[Any] = [patient.register_number, patient.township_code, patient.region.name]
        if show_name:
            line.append(row.name)
        line += [_cell(row.shown.get(f)) for f in columns]
        if dated and code in ("overdue", "first_visit"):
            line.append(_cell(row.days))
        if dated and code == "first_visit":
            line.append(_("yes") if row.late else _("no"))
        if dated and code == "failed_attempts":
            line += [patient.failed_attempts, _("yes") if row.prompt_lost else _("no")]
        ws.append(line)
        count += 1
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count


def export_worklist_xlsx(user: Any, code: str, *, mine: bool = False) -> HttpResponse:
    """An HTTP download of list ``code``; audited as one export event with the count."""
    content, count = build_worklist_workbook(user, code, mine=mine)
    audit.record(AuditAction.EXPORT, object_type="patients.patient", region_code=getattr(user, "region_id", "") or "",
                 detail={"worklist": code, "mine": mine, "count": count, "format": "xlsx", "masked": True})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="worklist-{code}-{stamp}.xlsx"'
    return response
