"""Excel export of the patient list: scoped by the caller, masked as on screen, audited with its size.

Follows ``core/exports.py``: always masked (an export cannot carry revealed fields), hidden
categories left out of the file altogether, one ``export`` audit event with the row count.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from xinqiao.core import audit
from xinqiao.core.exports import XLSX
from xinqiao.core.masks import Visibility, present, visibility
from xinqiao.core.models import AuditAction, Person
from xinqiao.patients.models import Patient


def _columns(model: type[Any], user: Any) -> list[tuple[str, str]]:
    return [
        (name, str(model._meta.get_field(name).verbose_name))
        for name, category in model.PII_FIELDS.items()
        if visibility(user, category) != Visibility.HIDDEN
    ]


def build_patients_workbook(user: Any, qs: QuerySet[Patient]) -> tuple[bytes, int]:
    """The workbook bytes and the number of rows written (streamed, 2,000 rows per fetch)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_("registered patients"))
    person_cols = _columns(Person, user)
    patient_cols = _columns(Patient, user)
    ws.append([_("register number"), _("status"), _("registered on"), _("township code"), _("township"),
               *[h for _f, h in person_cols], *[h for _f, h in patient_cols]])
    count = 0
    rows = qs.select_related("person", "region", "responsible_doctor", "diagnosing_hospital").order_by("id")
    for patient in rows.iterator(chunk_size=2000):
        shown_person = present(user, patient.person)
        shown = present(user, patient)
        ws.append([
            patient.register_number, str(patient.get_status_display()), patient.registered_on.isoformat(),
            patient.township_code, patient.region.name,
            *["" if shown_person.get(f) is None else str(shown_person[f]) for f, _h in person_cols],
            *["" if shown.get(f) is None else str(shown[f]) for f, _h in patient_cols],
        ])
        count += 1
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count


def export_patients_xlsx(user: Any, qs: QuerySet[Patient], filters: dict[str, Any] | None = None) -> HttpResponse:
    """An HTTP download of the scoped, filtered patients; audited as one export event."""
    content, count = build_patients_workbook(user, qs)
    audit.record(AuditAction.EXPORT, object_type="patients.patient", region_code=user.region_id or "",
                 detail={"count": count, "format": "xlsx", "masked": True, "filters": filters or {}})
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="patients-{stamp}.xlsx"'
    return response
